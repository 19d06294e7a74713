"""Purchases (采购项目), sealed bids, clarification Q&A, selection methods, verifiable draws,
result publicity, objections, awards, and the time engine that moves purchases on deadlines."""
