"""RL policies for the maze env with stable-baselines3 (extractors, policies, agent, rollouts).

Importing this package imports nothing heavy; import the submodules: :mod:`agents.rl.extractors`,
:mod:`agents.rl.policies`, :mod:`agents.rl.rollout`, :mod:`agents.rl.agent`.
"""
