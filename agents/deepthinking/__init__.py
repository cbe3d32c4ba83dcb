"""The recurrent "deep thinking" maze solver (Bansal et al. 2022) as a learned agent.

``model`` holds the network (torch); ``agent`` the ``deepthinking`` agent that walks its path mask.
Importing this package does not import torch.
"""
