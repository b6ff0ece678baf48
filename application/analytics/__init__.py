"""Analytics: the figures of the insights report, from the cleaned zone."""
