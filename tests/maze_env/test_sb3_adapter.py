"""The SB3 adapter: SB3's VecEnv conventions, equal to a DummyVecEnv of MazeEnvs, and PPO on it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor  # noqa: E402

from maze_env import MazeEnv, MazeVectorEnv, Task  # noqa: E402
from maze_env.sb3 import MazeVecEnvAdapter  # noqa: E402


@pytest.mark.parametrize("obs_mode", ["grid", "tokens"])
def test_adapter_steps_like_a_dummy_vec_env_of_maze_envs(obs_mode: str) -> None:
    kwargs = {"shape": (3, 3), "max_steps": 10, "obs_mode": obs_mode}
    ours = MazeVecEnvAdapter(num_envs=3, seed=4, **kwargs)
    theirs = DummyVecEnv([lambda: MazeEnv(**kwargs) for _ in range(3)])
    theirs.seed(4)
    assert ours.observation_space == theirs.observation_space
    assert (ours.reset() == theirs.reset()).all()
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(80):
        actions = rng.integers(0, 4, 3)
        obs, rewards, dones, infos = ours.step(actions)
        obs2, rewards2, dones2, infos2 = theirs.step(actions)
        assert (obs == obs2).all() and (dones == dones2).all()
        assert rewards.dtype == np.float32 and np.allclose(rewards, rewards2)
        for i in np.flatnonzero(dones):
            finished += 1
            assert (infos[i]["terminal_observation"] == infos2[i]["terminal_observation"]).all()
            assert infos[i]["TimeLimit.truncated"] == infos2[i]["TimeLimit.truncated"]
            assert infos[i]["is_success"] == (not infos[i]["TimeLimit.truncated"])
    assert finished > 5


def test_short_ppo_learn_on_the_adapter() -> None:
    env = VecMonitor(MazeVecEnvAdapter(num_envs=4, seed=0, shape=(3, 3)))
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(128)
    assert model.num_timesteps == 128 and len(model.ep_info_buffer) > 0
    action, _ = model.predict(env.reset(), deterministic=True)
    assert action.shape == (4,)


def test_vec_env_methods() -> None:
    env = MazeVecEnvAdapter(num_envs=2, seed=1, shape=(2, 3))
    env.reset()
    assert env.get_attr("num_envs") == [2, 2] and env.get_attr("render_mode", indices=0) == [None]
    tasks = env.env_method("task")
    assert len(tasks) == 2 and all(isinstance(t, Task) for t in tasks)
    env.env_method("set_target", (0, 0), indices=[1])
    assert env.env_method("task", indices=1)[0].target == (0, 0)
    assert env.env_is_wrapped(VecMonitor) == [False, False]
    snake = Task.from_ascii("#######\n#S    #\n##### #\n#E    #\n#######")
    env.set_options({"task": snake})
    env.reset()
    assert env.env_method("task") == [snake, snake]
    env.close()


def test_adapter_needs_same_step_autoreset() -> None:
    with pytest.raises(ValueError, match="SameStep"):
        MazeVecEnvAdapter(MazeVectorEnv(2))
    with pytest.raises(ValueError, match="either venv or env arguments"):
        MazeVecEnvAdapter(MazeVectorEnv(2, autoreset_mode="SameStep"), shape=(3, 3))
