"""The stages of a dedup run, a module each (:func:`neardup.dedup.run_dedup` runs them
in order)."""
