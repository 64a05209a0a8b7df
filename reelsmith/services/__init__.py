"""Use cases: accounts and tokens, pricing and credits, creating and reading tasks."""
