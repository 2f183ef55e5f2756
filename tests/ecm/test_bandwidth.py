"""The MEF 10.3 two-rate three-colour marker against hand-worked examples."""

from __future__ import annotations

from lso.ecm.bandwidth import (
    BandwidthProfile,
    Colour,
    TwoRateThreeColourMarker,
    constant_rate_colours,
    police_constant_rate,
    police_period,
)

G, Y, R = Colour.GREEN, Colour.YELLOW, Colour.RED
S = 1_000_000_000  # ns


def test_hand_worked_sequence_colour_blind_coupling_zero() -> None:
    # CIR = EIR = 8000 bit/s (1000 bytes/s), CBS 1500 bytes, EBS 1000 bytes; buckets start full.
    marker = TwoRateThreeColourMarker(BandwidthProfile(cir=8000, cbs=1500, eir=8000, ebs=1000))
    frames = [
        (0, 1000, G),  # Bc 1500 → 500
        (0, 1000, Y),  # Bc 500 too small; Be 1000 → 0
        (0, 600, R),  # neither bucket holds 600
        (S // 2, 1000, G),  # +500 each: Bc 1000 → 0, Be 500
        (6 * S // 10, 400, Y),  # +100 each: Bc 100, Be 600 → 200
        (3 * S, 1500, G),  # +2400 each, capped: Bc 1500 → 0, Be 1000 (green overflow lost: coupling 0)
        (3 * S, 1200, R),  # Be 1000 < 1200
        (3 * S, 1000, Y),  # Be 1000 → 0
    ]
    assert [marker.mark(t, length) for t, length, _ in frames] == [c for _, _, c in frames]
    assert marker.committed_bytes() == 0
    assert marker.excess_bytes() == 0


def test_committed_overflow_does_not_feed_the_excess_bucket() -> None:
    # With coupling flag 0 a long idle period refills Be only up to EBS, never with Bc's overflow.
    marker = TwoRateThreeColourMarker(BandwidthProfile(cir=80_000, cbs=2000, eir=0, ebs=500))
    assert marker.mark(0, 2000) is G
    assert marker.mark(10 * S, 2000) is G
    assert marker.mark(10 * S, 500) is Y
    assert marker.mark(10 * S, 1) is R


def test_exact_token_arithmetic_at_the_boundary() -> None:
    # 1000 bytes of tokens take exactly 1 s at 8000 bit/s: a frame at 999,999,999 ns is one token short.
    marker = TwoRateThreeColourMarker(BandwidthProfile(cir=8000, cbs=1000))
    assert marker.mark(0, 1000) is G
    assert marker.mark(S - 1, 1000) is R
    # A red frame takes no tokens, so one nanosecond later the bucket holds exactly 1000 bytes.
    assert marker.mark(S, 1000) is G
    fresh = TwoRateThreeColourMarker(BandwidthProfile(cir=8000, cbs=1000))
    assert fresh.mark(0, 1000) is G
    assert fresh.mark(S, 1000) is G


def test_constant_rate_over_cir_splits_into_cir_and_eir() -> None:
    # 3 Mbit/s offered to CIR 1 Mbit/s + EIR 1 Mbit/s: steady state one third each of green, yellow, red.
    profile = BandwidthProfile(cir=1_000_000, cbs=10_000, eir=1_000_000, ebs=10_000)
    count = police_constant_rate(profile, rate_bps=3_000_000, frame_bytes=1000, frames=3000)
    # Frames every 8/3 ms over 7.997 s. Green: CBS (10 frames) + CIR over the span (999.7) = 1009.
    # Bc before frame k holds 10000 - 666.7k bytes, short of 1000 first at k = 14 (t = 37.3 ms); until
    # then Be sits full and its refill is lost. Yellow: EBS (10) + EIR over 7.960 s (995.0) = 1005.
    assert count.green_frames == 1009
    assert count.yellow_frames == 1005
    assert count.red_frames == 3000 - 1009 - 1005
    assert count.frames == 3000


def test_closed_form_of_long_periods_agrees_with_the_marker() -> None:
    profile = BandwidthProfile(cir=2_000_000, cbs=12_000, eir=1_000_000, ebs=6_000)
    # 30 000 frames exceed the exact limit, so police_period uses the closed form.
    closed = police_period(profile, rate_bps=4_000_000, frame_bytes=500, seconds=29_999 * 500 * 8 / 4_000_000)
    exact = police_constant_rate(profile, rate_bps=4_000_000, frame_bytes=500, frames=30_000)
    assert closed.frames == exact.frames == 30_000
    assert abs(closed.green_frames - exact.green_frames) <= 1
    assert abs(closed.yellow_frames - exact.yellow_frames) <= 1


def test_constant_rate_colours_are_the_markers_frame_by_frame() -> None:
    # The inlined loop must colour every frame as the marker does, the skipped warm-up included.
    cases = [
        (BandwidthProfile(cir=100_000_000, cbs=12_176, eir=0, ebs=12_176), 125_000_000, 1000, 700, 37),
        (BandwidthProfile(cir=1_000_000, cbs=10_000, eir=1_000_000, ebs=10_000), 3_000_000, 1000, 500, 0),
        (BandwidthProfile(cir=7_000_001, cbs=900, eir=3_333_333, ebs=1500), 9_999_999, 1000, 800, 11),
        (BandwidthProfile(cir=25_000_000, cbs=12_176), 25_000_000, 1000, 600, 0),
    ]
    for profile, rate, size, frames, skip in cases:
        marker = TwoRateThreeColourMarker(profile)
        interval_ns = size * 8 * S / rate
        colours = [marker.mark(round(i * interval_ns), size) for i in range(skip + frames)][skip:]
        expected = (colours.count(G), colours.count(Y), colours.count(R))
        assert constant_rate_colours(profile, rate, size, frames, skip) == expected
        assert sum(expected) == frames
