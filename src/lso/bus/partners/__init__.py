"""Partners this provider buys from over SONATA: registry, on-boarding and the operator's API."""
