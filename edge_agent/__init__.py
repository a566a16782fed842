"""carbonflow: edge_agent."""
