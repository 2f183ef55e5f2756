"""The LEGATO APIs SOF serves to BUS (docs/legato.md)."""
