"""The model mathematics as pure numpy/scipy functions of arrays: BG/NBD, Gamma-Gamma, individual-level sampling."""
