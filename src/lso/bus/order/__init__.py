"""BUS product ordering (MEF 55.0.1 §10.2 steps 4, 5, 7, 13-15): order structure, product to service
mapping, the durable fulfilment over LEGATO and the products it puts in inventory."""
