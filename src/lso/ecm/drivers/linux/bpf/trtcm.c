// SPDX-License-Identifier: GPL-2.0
/*
 * MEF 10.3 two-rate three-colour bandwidth profile (colour-blind, coupling flag 0) on a tc ingress hook.
 *
 * Same arithmetic as lso/ecm/bandwidth.py, so the kernel and the Python model agree to the frame: time
 * is integer nanoseconds from bpf_ktime_get_ns and tokens are 1e-9 bit, so a rate in bit/s times
 * elapsed nanoseconds is a whole number of tokens. Each frame refills both buckets for the time since
 * the previous frame (each capped at its burst size; green overflow is lost), then is green if the
 * committed bucket holds its length, else yellow if the excess bucket does, else red (dropped).
 *
 * One program serves every UNI of a network namespace; its maps are keyed by ifindex. The profile,
 * the bucket state and the colour counters live in separate maps so that user space can change a
 * profile live without resetting the buckets or the counters.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* Written by user space: rates in bit/s, burst sizes in tokens (bytes * 8e9), and the time each
 * bucket takes to fill from empty, beyond which the refill is simply "full" (no overflow). */
struct profile {
	__u64 cir;
	__u64 eir;
	__u64 committed_size;
	__u64 excess_size;
	__u64 committed_fill_ns;
	__u64 excess_fill_ns;
};

struct buckets {
	struct bpf_spin_lock lock;
	__u64 committed;
	__u64 excess;
	__u64 last_ns; /* 0 = no frame yet: buckets start full */
};

struct colour_counters {
	__u64 green_frames;
	__u64 green_bytes;
	__u64 yellow_frames;
	__u64 yellow_bytes;
	__u64 red_frames;
	__u64 red_bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct profile);
} profiles SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct buckets);
} bucket_state SEC(".maps");

/* Per CPU so that counting never contends; user space sums the CPUs in one dump. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct colour_counters);
} colours SEC(".maps");

#define UNITS_PER_BYTE 8000000000ULL

static __always_inline __u64 refill(__u64 tokens, __u64 size, __u64 rate, __u64 fill_ns, __u64 elapsed)
{
	if (elapsed >= fill_ns)
		return size;
	tokens += rate * elapsed; /* < size + size: no overflow while size < 2^63 */
	return tokens < size ? tokens : size;
}

SEC("tc")
int trtcm(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct profile *profile = bpf_map_lookup_elem(&profiles, &ifindex);
	struct buckets *state = bpf_map_lookup_elem(&bucket_state, &ifindex);
	struct colour_counters *counters = bpf_map_lookup_elem(&colours, &ifindex);
	if (!profile || !state || !counters)
		return TC_ACT_OK; /* not a policed UNI */

	__u64 now = bpf_ktime_get_ns();
	__u64 need = (__u64)skb->len * UNITS_PER_BYTE;
	int colour;

	bpf_spin_lock(&state->lock);
	if (state->last_ns != 0 && now > state->last_ns) {
		__u64 elapsed = now - state->last_ns;
		state->committed = refill(state->committed, profile->committed_size, profile->cir,
					  profile->committed_fill_ns, elapsed);
		state->excess = refill(state->excess, profile->excess_size, profile->eir,
				       profile->excess_fill_ns, elapsed);
	}
	/* Another CPU may have stamped a later time already: never move the clock back. */
	if (now > state->last_ns)
		state->last_ns = now;
	if (need <= state->committed) {
		state->committed -= need;
		colour = 0;
	} else if (need <= state->excess) {
		state->excess -= need;
		colour = 1;
	} else {
		colour = 2;
	}
	bpf_spin_unlock(&state->lock);

	if (colour == 0) {
		counters->green_frames++;
		counters->green_bytes += skb->len;
		return TC_ACT_OK;
	}
	if (colour == 1) {
		counters->yellow_frames++;
		counters->yellow_bytes += skb->len;
		return TC_ACT_OK;
	}
	counters->red_frames++;
	counters->red_bytes += skb->len;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
