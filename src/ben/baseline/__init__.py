"""The baseline library (ADR 0038): operators' labels of incidents, and the open, versioned dataset of
labelled episodes (series before, during and after; labels; evidence) exported under the federation policy."""
