"""Securing management and control (MEF 55.0.1 §10.8): OAuth2 tokens, party isolation, audit trail."""
