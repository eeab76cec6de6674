"""The Hugging Face Deep RL course's REINFORCE, written in plain PyTorch as the benchmark's reference.

It follows the course unit's algorithm and CartPole-v1 settings: one hidden layer of 16 ReLU units, a softmax
policy, Adam with lr 1e-2, gamma = 1, one update per episode, and the loss ``sum_t -log pi(a_t|s_t) * G_t``
on the standardized reward-to-go of that episode.
"""

from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch as th
from torch import nn


class CoursePolicy(nn.Module):
    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_actions))

    def forward(self, obs: th.Tensor) -> th.Tensor:
        return th.softmax(self.net(obs), dim=-1)

    def act(self, obs: np.ndarray, deterministic: bool = False) -> tuple[int, th.Tensor | None]:
        probs = self(th.as_tensor(obs, dtype=th.float32).unsqueeze(0))
        if deterministic:
            return int(probs.argmax()), None
        distribution = th.distributions.Categorical(probs)
        action = distribution.sample()
        return int(action.item()), distribution.log_prob(action)


def train_course_reinforce(
    env_id: str,
    total_timesteps: int,
    seed: int,
    on_step: Callable[[int, CoursePolicy], None],
    learning_rate: float = 1e-2,
    gamma: float = 1.0,
    hidden: int = 16,
) -> CoursePolicy:
    """
    Train until ``total_timesteps`` env steps, calling ``on_step(num_timesteps, policy)`` after every episode.

    :return: The trained policy
    """
    th.manual_seed(seed)
    env = gym.make(env_id)
    assert isinstance(env.observation_space, gym.spaces.Box) and isinstance(env.action_space, gym.spaces.Discrete)
    policy = CoursePolicy(int(np.prod(env.observation_space.shape)), int(env.action_space.n), hidden)
    optimizer = th.optim.Adam(policy.parameters(), lr=learning_rate)
    eps = np.finfo(np.float32).eps.item()
    num_timesteps = 0
    episode = 0
    while num_timesteps < total_timesteps:
        obs, _ = env.reset(seed=seed + episode)
        episode += 1
        log_probs, rewards = [], []
        done = False
        while not done:
            action, log_prob = policy.act(obs)
            obs, reward, terminated, truncated, _ = env.step(action)
            log_probs.append(log_prob)
            rewards.append(float(reward))
            done = terminated or truncated
        num_timesteps += len(rewards)

        returns = np.zeros(len(rewards))
        running = 0.0
        for t in range(len(rewards) - 1, -1, -1):
            running = rewards[t] + gamma * running
            returns[t] = running
        returns_t = th.as_tensor(returns, dtype=th.float32)
        returns_t = (returns_t - returns_t.mean()) / (returns_t.std() + eps)
        loss = (-th.cat(log_probs) * returns_t).sum()  # type: ignore[arg-type]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        on_step(num_timesteps, policy)
    return policy


def evaluate_course_policy(policy: CoursePolicy, env: gym.Env, n_episodes: int, seed: int) -> tuple[float, float]:
    """Mean and std of the return of ``n_episodes`` greedy (argmax) episodes."""
    episode_returns = []
    with th.no_grad():
        for episode in range(n_episodes):
            obs, _ = env.reset(seed=seed + episode)
            done, total = False, 0.0
            while not done:
                action, _ = policy.act(obs, deterministic=True)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            episode_returns.append(total)
    return float(np.mean(episode_returns)), float(np.std(episode_returns))
