"""Key figures (domain.md §11) and the reserve reports built from them."""
