"""SOF service assurance (MEF 55.0.1 §10.4 performance and fault reports, §10.6 SLS assessment).

``series`` keeps the measurement intervals of every ordered pair of service end points and CoS compactly;
``metrics`` computes the MEF 10.4 performance metrics from them and assesses them against the SLS of the
product (``carrierEthernetServiceLevelSpecification``). The PM/FM APIs and the assessment workflow build on
these two modules.
"""
