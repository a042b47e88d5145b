"""Network adapters. Each SDK is imported only when an account of that network is built."""
