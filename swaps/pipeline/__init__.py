"""CrowdSwap's face pipeline: pure Python, no Django; configuration comes in as arguments."""
