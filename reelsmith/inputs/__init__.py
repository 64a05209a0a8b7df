"""A request's inputs: URLs fetched safely (the network guard, redirects, limits, content
sniffing), checked against the product's rules, and kept in storage for the worker."""
