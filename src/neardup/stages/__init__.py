"""The stages of a dedup run that have a module of their own (the rest are still in
:mod:`neardup.dedup`)."""
