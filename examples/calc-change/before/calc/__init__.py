"""A tiny calculator package (the example change for reviewbot's test suggestions)."""
