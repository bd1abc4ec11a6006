"""Tovholder: facilitator-led team reflection sessions, from projector to phones."""
