"""`grainlink central seed`: a year of reserve business for demo and test databases."""
