import io
import json
import os
import pathlib
import tempfile
import zipfile
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.preprocessing import get_flattened_obs_dim, is_image_space
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import explained_variance, obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv
from torch.nn import functional as F

from sb3_reinforce.common.buffers import DictEpisodicRolloutBuffer, EpisodicRolloutBuffer
from sb3_reinforce.common.sampling import RolloutSampler, predict_actions, sample_actions_and_values

SelfREINFORCE = TypeVar("SelfREINFORCE", bound="REINFORCE")

BASELINES = ("none", "mean", "value")
SUPPORTED_ACTION_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class REINFORCE(OnPolicyAlgorithm):
    """
    REINFORCE: Monte Carlo policy gradient (Williams, 1992), optionally with a learned state-value baseline.

    Each update uses complete episodes only. A rollout ends as soon as the episodes completed since the
    last update hold at least ``n_steps * n_envs`` transitions and number at least ``n_episodes``. The
    episodes still running at that moment are not cut: their steps stay in the buffer and the episodes are
    finished, under the updated policy, in a later rollout (the accepted bias: the first part of such an
    episode was sampled by an older policy, as with SB3's A2C/PPO whenever a rollout spans an update; the share
    of such transitions in each batch is logged as ``train/carried_fraction``).
    Returns are the discounted reward-to-go inside each episode; a time-limit truncation ends the episode
    and nothing is ever bootstrapped from a value function.

    The loss is ``-mean(log pi(a_t|s_t) * A_t) - ent_coef * entropy [+ vf_coef * MSE(V(s_t), G_t)]`` with
    ``A_t = G_t - b_t`` and ``b_t`` chosen by ``baseline``; ``normalize_advantage`` then standardizes
    ``A_t`` over the (mini)batch.

    The defaults are the HF course's algorithm (standardized reward-to-go, no learned baseline) with larger
    batches (``n_steps=256`` transitions per env) and Adam at ``1e-3``: on CartPole-v1 with one env it reaches
    500 within about 30,000 steps (``benchmarks/cartpole.py``). With a constant learning rate the policy keeps
    moving once it is good: decay it (``learning_rate=lambda p: 5e-3 * p``, ``lin_5e-3`` in the zoo) to settle.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function of the current progress remaining (from 1 to 0)
    :param n_steps: Minimum number of transitions per env in one update: a rollout collects complete episodes
        until they hold at least ``n_steps * n_envs`` transitions
    :param n_episodes: Minimum number of complete episodes in one update (over all envs)
    :param batch_size: Minibatch size; ``None`` (default) makes one gradient step on the whole rollout
    :param n_epochs: Number of passes over each rollout. Keep 1 (default): more passes reuse on-policy data
        after the policy has changed, without any correction
    :param gamma: Discount factor, in [0, 1]
    :param gae_lambda: Only 1.0 is accepted: REINFORCE uses Monte Carlo returns, which is GAE with lambda = 1
        and no bootstrap (kept so that SB3 hyperparameter files carrying it work)
    :param baseline: What is subtracted from the returns: ``"none"`` (plain REINFORCE), ``"mean"`` (the mean
        return of the batch) or ``"value"`` (the policy's value head, trained on the Monte Carlo returns)
    :param normalize_advantage: Whether to standardize the advantages ``G_t - b_t`` over each (mini)batch of more
        than one transition; with ``baseline="none"`` this is the "standardized returns" of the HF course
    :param ent_coef: Entropy coefficient for the loss calculation
    :param vf_coef: Value function coefficient for the loss calculation (used with ``baseline="value"``)
    :param max_grad_norm: The maximum value for the gradient clipping
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE
        Default: -1 (only sample at the beginning of the rollout)
    :param max_episode_length: Largest number of transitions an episode may have; a longer one raises an error
        instead of growing the buffer without bound (wrap never-ending envs in a ``TimeLimit``)
    :param rollout_buffer_class: Rollout buffer class to use (a subclass of ``EpisodicRolloutBuffer``).
        If ``None``, it will be automatically selected.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation.
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation. See :ref:`reinforce_policies`
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }
    rollout_buffer: EpisodicRolloutBuffer  # type: ignore[assignment]
    #: Largest number of input elements (observation numbers x transitions) put through the network at once in an
    #: update. Bigger batches are split into chunks whose gradients are summed before the single optimizer step: the
    #: update is the same (up to floating-point rounding), memory stays bounded (e.g. 148 Atari frames of 4x84x84).
    #: Small chunks are also faster on the CPU: NatureCNN's forward and backward pass cost about 1.2 ms per frame in
    #: chunks of 40-300 frames, 3.6 ms in chunks of 1,189 (whose activations no longer fit the caches).
    gradient_chunk_elements: int = 2**22

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        n_steps: int = 256,
        n_episodes: int = 1,
        batch_size: int | None = None,
        n_epochs: int = 1,
        gamma: float = 0.99,
        gae_lambda: float = 1.0,
        baseline: str = "none",
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        max_episode_length: int = 100_000,
        rollout_buffer_class: type[EpisodicRolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        _check_hyperparameters(
            learning_rate=learning_rate,
            n_steps=n_steps,
            n_episodes=n_episodes,
            batch_size=batch_size,
            n_epochs=n_epochs,
            gamma=gamma,
            gae_lambda=gae_lambda,
            baseline=baseline,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            max_episode_length=max_episode_length,
            normalize_advantage=normalize_advantage,
            sde_sample_freq=sde_sample_freq,
            stats_window_size=stats_window_size,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
        )
        # SB3 wants Python floats (FloatSchedule rejects numpy scalars); the checks above accept both.
        if not callable(learning_rate):
            learning_rate = float(learning_rate)
        gamma, ent_coef, vf_coef, max_grad_norm = float(gamma), float(ent_coef), float(vf_coef), float(max_grad_norm)
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,  # type: ignore[arg-type]
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=False,
        )
        self.n_episodes = n_episodes
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.baseline = baseline
        self.normalize_advantage = normalize_advantage
        self.max_episode_length = max_episode_length
        # Whether rollouts also record the value baseline (see train()): for images, or once an update needed several chunks.
        self._rollout_values = False

        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        # Checked here rather than in __init__ so that load() (which builds the model without an env) checks too.
        if not isinstance(self.action_space, SUPPORTED_ACTION_SPACES):
            raise ValueError(
                f"REINFORCE does not support the action space {self.action_space}: "
                f"supported are {', '.join(space.__name__ for space in SUPPORTED_ACTION_SPACES)}"
            )
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        # Images: a batch of episodes seldom fits in one chunk, and the rollout's values cost a linear layer on the shared
        # CNN features, where recomputing them at update time costs another pass through the CNN.
        self._rollout_values = self._rollout_values or (self.baseline == "value" and _has_image(self.observation_space))

        if self.rollout_buffer_class is None:
            if isinstance(self.observation_space, spaces.Dict):
                self.rollout_buffer_class = DictEpisodicRolloutBuffer  # type: ignore[assignment]
            else:
                self.rollout_buffer_class = EpisodicRolloutBuffer  # type: ignore[assignment]
        buffer_class: type[EpisodicRolloutBuffer] = self.rollout_buffer_class  # type: ignore[assignment]

        self.rollout_buffer = buffer_class(
            self.observation_space,
            self.action_space,
            device=self.device,
            gamma=self.gamma,
            n_envs=self.n_envs,
            max_episode_length=self.max_episode_length,
            **self.rollout_buffer_kwargs,
        )
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, use_sde=self.use_sde, **self.policy_kwargs
        )
        self.policy = self.policy.to(self.device)
        self._maybe_recommend_cpu()

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: EpisodicRolloutBuffer,  # type: ignore[override]
        n_rollout_steps: int,
    ) -> bool:
        """
        Collect complete episodes with the current policy until the buffer holds enough for one update.

        :param env: The training environment
        :param callback: Callback that will be called at each step (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with complete episodes
        :param n_rollout_steps: Minimum number of transitions per environment (``n_steps``)
        :return: True if the rollout is complete, False if the callback stopped training during it
        """
        assert self._last_obs is not None, "No previous observation was provided"
        self.policy.set_training_mode(False)

        rollout_buffer.reset()
        if self.use_sde:
            self.policy.reset_noise(env.num_envs)
        callback.on_rollout_start()

        min_transitions = n_rollout_steps * env.num_envs
        n_steps = 0
        sampler = RolloutSampler(self.policy)  # the actor inspected once per rollout
        # learn(total_timesteps) is a budget, as for A2C/PPO: the rollout stops there even mid-episode. Running episodes
        # stay in the buffer (completed by a later learn(..., reset_num_timesteps=False)); only complete ones are used.
        while self.num_timesteps < self._total_timesteps and not rollout_buffer.is_ready(min_transitions, self.n_episodes):
            if self.use_sde and self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0:
                self.policy.reset_noise(env.num_envs)

            _check_finite("observation", self._last_obs, self.num_timesteps)  # type: ignore[arg-type]
            with th.inference_mode():
                obs_tensor = obs_as_tensor(self._last_obs, self.device)  # type: ignore[arg-type]
                # Only the sampled action is needed (and the value baseline, where recorded: see train()); the
                # log-probabilities are computed at training time, with the current weights.
                values = None
                if self._rollout_values:
                    actions_tensor, values_tensor = sample_actions_and_values(self.policy, obs_tensor)
                    actions, values = actions_tensor.cpu().numpy(), values_tensor.cpu().numpy()
                else:
                    actions = sampler(obs_tensor).cpu().numpy()

            clipped_actions = actions
            if isinstance(self.action_space, spaces.Box):
                # The policy outputs flat vectors: a multi-dimensional Box needs its own shape back before clipping.
                clipped_actions = actions.reshape((-1, *self.action_space.shape))
                if self.policy.squash_output:
                    clipped_actions = self.policy.unscale_action(clipped_actions)
                else:
                    clipped_actions = np.clip(clipped_actions, self.action_space.low, self.action_space.high)

            new_obs, rewards, dones, infos = env.step(clipped_actions)
            self.num_timesteps += env.num_envs
            _check_finite("reward", rewards, self.num_timesteps)

            # Recorded before the callback (SB3 records after it): a callback that stops training must not lose this
            # step, or an episode continued by learn(reset_num_timesteps=False) would miss it, and maybe its end.
            rollout_buffer.add(self._last_obs, actions, rewards, dones, values)  # type: ignore[arg-type]
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones
            self._update_info_buffer(infos, dones)
            n_steps += 1

            callback.update_locals(locals())
            if not callback.on_step():
                return False

        rollout_buffer.finalize()
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def _advantages(self, returns: th.Tensor, baseline: th.Tensor) -> th.Tensor:
        """``G_t - b_t``, standardized over the (mini)batch when ``normalize_advantage`` (and it holds more than one)."""
        advantages = returns - baseline
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        return advantages

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        # A rollout ends only once its episodes are complete, so the last one overshoots total_timesteps: clamp at 0,
        # or a schedule such as the zoo's lin_* (which does not clip) would make the last update with a negative rate.
        super()._update_current_progress_remaining(num_timesteps, total_timesteps)
        self._current_progress_remaining = max(0.0, self._current_progress_remaining)

    def train(self) -> None:
        """Make one policy-gradient update (``n_epochs`` passes, one step per minibatch) on the collected episodes."""
        if self.rollout_buffer.size() == 0:
            # The rollout reached total_timesteps before any episode ended: nothing to learn from yet.
            return
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        use_value = self.baseline == "value"

        policy_losses, entropy_losses, value_losses = [], [], []
        all_baselines, all_returns = [], []
        chunk_size = max(1, self.gradient_chunk_elements // _input_elements(self.observation_space))
        for _ in range(self.n_epochs):
            for rollout_data in self.rollout_buffer.get(self.batch_size):
                actions = rollout_data.actions
                if isinstance(self.action_space, spaces.Discrete):
                    actions = actions.long().flatten()
                returns = rollout_data.returns
                n_samples = len(returns)
                chunks = [slice(start, start + chunk_size) for start in range(0, n_samples, chunk_size)]

                # All advantages are known before the first chunk's backward pass, except for a learned value in a batch
                # of one chunk: then the values come from the same forward pass as the log-probabilities.
                baseline: th.Tensor | None = None
                if self.baseline == "mean":
                    baseline = returns.mean().expand_as(returns)
                elif self.baseline == "none":
                    baseline = th.zeros_like(returns)
                elif len(chunks) > 1:
                    # The rollout's values were made with these very weights (as A2C's are): only the steps of episodes
                    # carried over from an earlier rollout (or of a rollout that did not record them) go through the
                    # network again. For images, that saves a whole forward pass over the batch.
                    baseline = rollout_data.values.clone()
                    missing = th.isnan(baseline).nonzero().flatten()
                    with th.no_grad():
                        for start in range(0, len(missing), chunk_size):
                            index = missing[start : start + chunk_size]
                            baseline[index] = self.policy.predict_values(
                                _obs_slice(rollout_data.observations, index)
                            ).flatten()
                    self._rollout_values = True
                advantages = None if baseline is None else self._advantages(returns, baseline)

                # One gradient step for the whole (mini)batch; big batches of images go through the network in chunks
                # whose gradients add up, so that memory stays bounded.
                self.policy.optimizer.zero_grad()
                policy_loss_sum = entropy_loss_sum = value_loss_sum = 0.0
                for chunk in chunks:
                    observations = _obs_slice(rollout_data.observations, chunk)
                    if use_value:
                        values, log_prob, entropy = self.policy.evaluate_actions(observations, actions[chunk])
                        values = values.flatten()
                    else:
                        distribution = self.policy.get_distribution(observations)
                        log_prob = distribution.log_prob(actions[chunk])
                        entropy = distribution.entropy()
                    if advantages is None:
                        baseline = values.detach()
                        advantages = self._advantages(returns, baseline)
                    weight = len(log_prob) / n_samples

                    policy_loss = -(advantages[chunk] * log_prob).mean()
                    # Approximate entropy when there is no analytical form (e.g. squashed Gaussian)
                    entropy_loss = -th.mean(-log_prob) if entropy is None else -th.mean(entropy)
                    loss = policy_loss + self.ent_coef * entropy_loss
                    if use_value:
                        value_loss = F.mse_loss(values, returns[chunk])
                        loss = loss + self.vf_coef * value_loss
                        value_loss_sum += weight * value_loss.item()

                    if not th.isfinite(loss):
                        raise FloatingPointError(
                            f"The REINFORCE loss is {loss.item()} at timestep {self.num_timesteps}: this gradient step was "
                            "not applied, so the weights stay finite. Lower learning_rate, enable normalize_advantage or "
                            "scale the rewards (e.g. VecNormalize)."
                        )
                    # Chunk losses are means: weighted by their share, their gradients add up to the whole batch's.
                    # (One chunk skips the multiplication by 1.0, so that the usual path is bit for bit unchanged.)
                    (loss * weight if len(chunks) > 1 else loss).backward()
                    policy_loss_sum += weight * policy_loss.item()
                    entropy_loss_sum += weight * entropy_loss.item()

                grad_norm = th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
                if not th.isfinite(grad_norm):
                    # A finite loss can still have an infinite gradient (e.g. an input at float32's limit): Adam would
                    # spread the NaN into every weight and its moments, and a later save() would write that model.
                    raise FloatingPointError(
                        f"The gradient norm of the REINFORCE loss is {grad_norm.item()} at timestep {self.num_timesteps}: "
                        "this gradient step was not applied, so the weights stay finite. Check the observations' scale "
                        "(e.g. VecNormalize), lower learning_rate or scale the rewards."
                    )
                self.policy.optimizer.step()
                assert baseline is not None
                all_baselines.append(baseline.cpu().numpy())
                all_returns.append(returns.cpu().numpy())
                policy_losses.append(policy_loss_sum)
                entropy_losses.append(entropy_loss_sum)
                if use_value:
                    value_losses.append(value_loss_sum)

        self._n_updates += self.n_epochs
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/policy_loss", np.mean(policy_losses))
        self.logger.record("train/entropy_loss", np.mean(entropy_losses))
        self.logger.record("train/n_episodes", self.rollout_buffer.n_batch_episodes)
        self.logger.record("train/n_transitions", self.rollout_buffer.size())
        self.logger.record("train/carried_fraction", self.rollout_buffer.n_batch_carried / self.rollout_buffer.size())
        # How much of the returns' variance the baseline explains: only a learned value can make it > 0
        # (it is 0 by construction without one), as for A2C/PPO's value function.
        self.logger.record(
            "train/explained_variance", explained_variance(np.concatenate(all_baselines), np.concatenate(all_returns))
        )
        if use_value:
            self.logger.record("train/value_loss", np.mean(value_losses))
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfREINFORCE],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        **kwargs: Any,
    ) -> SelfREINFORCE:
        """
        Load a model saved with :meth:`save`, as SB3's ``load`` does, after checking that the file is one.

        SB3's format unpickles parts of the file: only load files you trust (``sb3_reinforce.hub.load_from_hub``
        loads shared models without unpickling anything).
        """
        _check_model_archive(path)
        return super().load(
            path,
            env=env,
            device=device,
            custom_objects=custom_objects,
            print_system_info=print_system_info,
            force_reset=force_reset,
            **kwargs,
        )

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """
        Save the model as SB3's ``save`` does, but atomically when ``path`` is a file name: the zip is written to a
        temporary file in the same folder, then renamed over ``path``. A save that fails part-way (disk full, file
        size limit, Ctrl-C) leaves the previous file at ``path`` intact instead of truncated.

        :param path: File name (``.zip`` is appended when it has no suffix, as in SB3) or a writable file object
        :param exclude: Names of parameters that should be excluded in addition to the default ones
        :param include: Names of parameters that might be excluded but should be included anyway
        """
        if not isinstance(path, str | pathlib.Path):
            super().save(path, exclude=exclude, include=include)
            return
        target = pathlib.Path(path)
        if target.suffix == "":
            target = target.with_name(f"{target.name}.zip")
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                super().save(file, exclude=exclude, include=include)  # type: ignore[arg-type]
                file.flush()
                os.fsync(file.fileno())
            # mkstemp creates the file readable by its owner only: give it the permissions a plain open() would.
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, target)
        except BaseException:
            pathlib.Path(temporary).unlink(missing_ok=True)
            raise

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        Get the policy's action(s) from an observation, as SB3's ``predict`` does (same checks, conversions, clipping
        and shapes; deterministic actions are SB3's bit for bit, sampled ones draw the same random numbers), with the
        forward pass of the rollouts instead of a ``torch.distributions`` object per call: about 3x cheaper for the
        small networks of classic-control and PLE tasks, where evaluations (``EvalCallback``, ``enjoy``, the
        course's ``evaluate_agent``) otherwise cost more than the environment.

        :param observation: the input observation (one, or a batch from a VecEnv)
        :param state: passed through (REINFORCE's policies are not recurrent)
        :param episode_start: unused (no recurrent state)
        :param deterministic: Whether to return the distribution's mode rather than a sample
        :return: the action(s) and ``state``
        """
        policy = self.policy
        if not isinstance(policy, ActorCriticPolicy) or (
            isinstance(observation, tuple) and len(observation) == 2 and isinstance(observation[1], dict)
        ):
            # SB3 explains the (obs, info) mix-up; other policy classes keep their own _predict.
            return super().predict(observation, state, episode_start, deterministic)
        if policy.training:
            policy.set_training_mode(False)
        obs_tensor, vectorized_env = policy.obs_to_tensor(observation)
        with th.inference_mode():
            actions_tensor = predict_actions(policy, obs_tensor, deterministic)
        actions = actions_tensor.cpu().numpy().reshape((-1, *self.action_space.shape))  # type: ignore[misc, arg-type]
        if isinstance(self.action_space, spaces.Box):
            if policy.squash_output:
                actions = policy.unscale_action(actions)
            else:
                actions = np.clip(actions, self.action_space.low, self.action_space.high)
        if not vectorized_env:
            actions = actions.squeeze(axis=0)
        return actions, state

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        if reset_num_timesteps or self._last_obs is None:
            # The envs are about to be reset: the episodes they were running will never end.
            self.rollout_buffer.reset(discard_unfinished=True)
        return super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)

    def learn(
        self: SelfREINFORCE,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "REINFORCE",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfREINFORCE:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )


def _umask() -> int:
    """The process's umask (reading it means setting it: put it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _has_image(space: spaces.Space) -> bool:
    if isinstance(space, spaces.Dict):
        return any(_has_image(subspace) for subspace in space.spaces.values())
    return is_image_space(space, check_channels=False)


def _input_elements(space: spaces.Space) -> int:
    """Numbers one observation puts through the network (one-hot for discrete spaces): what a chunk's memory scales with."""
    if isinstance(space, spaces.Dict):
        return sum(_input_elements(subspace) for subspace in space.spaces.values())
    return max(1, get_flattened_obs_dim(space))


def _obs_slice(observations: th.Tensor | dict[str, th.Tensor], index: slice | th.Tensor) -> th.Tensor | dict[str, th.Tensor]:
    if isinstance(observations, dict):
        return {key: value[index] for key, value in observations.items()}
    return observations[index]


def _check_model_archive(path: str | pathlib.Path | io.BufferedIOBase) -> None:
    """Fail with a clear message when ``path`` is not a REINFORCE model saved by SB3's ``save()``."""
    if isinstance(path, str | pathlib.Path):
        path = pathlib.Path(path)
        # As SB3's load: "<path>", else "<path>.zip" (appended, so that "model.v2" finds "model.v2.zip").
        if not path.exists() and pathlib.Path(f"{path}.zip").exists():
            path = pathlib.Path(f"{path}.zip")
        if not path.is_file():
            raise FileNotFoundError(f"No model file at {path}")
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path} is not a model: a REINFORCE model is a zip archive written by model.save()")
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            data = archive.read("data") if "data" in names else b""
    else:
        # A file object: read it, then rewind for SB3.
        start = path.tell()
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                data = archive.read("data") if "data" in names else b""
        except zipfile.BadZipFile as error:
            raise ValueError(
                "The file object is not a model: a REINFORCE model is a zip archive written by model.save()"
            ) from error
        path.seek(start)
    missing = {"data", "policy.pth"} - names
    if missing:
        raise ValueError(f"{path} is not a Stable-Baselines3 model: the archive lacks {', '.join(sorted(missing))}")
    try:
        keys = set(json.loads(data))
    except ValueError as error:
        raise ValueError(f"{path} is not a Stable-Baselines3 model: its 'data' entry is not JSON") from error
    if not {"baseline", "n_episodes"} <= keys:
        raise ValueError(
            f"{path} was not saved by REINFORCE (it has no 'baseline'/'n_episodes' hyperparameters): "
            "load it with the algorithm class that saved it"
        )


def _check_hyperparameters(
    *,
    learning_rate: float | Schedule,
    n_steps: int,
    n_episodes: int,
    batch_size: int | None,
    n_epochs: int,
    gamma: float,
    gae_lambda: float,
    baseline: str,
    ent_coef: float,
    vf_coef: float,
    max_grad_norm: float,
    max_episode_length: int,
    normalize_advantage: bool,
    sde_sample_freq: int,
    stats_window_size: int,
    rollout_buffer_class: type | None,
    rollout_buffer_kwargs: dict[str, Any] | None,
) -> None:
    """Raise ``ValueError`` naming the first invalid hyperparameter (``TypeError`` for a buffer keyword set twice)."""

    def positive_int(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def is_real(value: Any) -> bool:
        # numpy scalars (np.float32(0.99), from a config or a sampler) are as good as Python numbers; bools are not.
        return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)

    if not callable(learning_rate) and not (is_real(learning_rate) and np.isfinite(learning_rate)):
        raise ValueError(f"learning_rate must be a finite float or a schedule (callable), got {learning_rate!r}")
    if not callable(learning_rate) and learning_rate <= 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    positive_int("n_steps", n_steps)
    positive_int("n_episodes", n_episodes)
    positive_int("n_epochs", n_epochs)
    positive_int("max_episode_length", max_episode_length)
    if batch_size is not None:
        positive_int("batch_size", batch_size)
    if not (is_real(gamma) and 0.0 <= gamma <= 1.0):
        raise ValueError(f"gamma must be a float in [0, 1], got {gamma!r}")
    if gae_lambda != 1.0:
        raise ValueError(
            f"gae_lambda={gae_lambda!r} is not supported: REINFORCE uses Monte Carlo returns (gae_lambda=1.0, no bootstrap). "
            "Use A2C or PPO for GAE."
        )
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {', '.join(repr(b) for b in BASELINES)}, got {baseline!r}")
    for name, value in (("ent_coef", ent_coef), ("vf_coef", vf_coef)):
        if not (is_real(value) and np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite float >= 0, got {value!r}")
    if not (is_real(max_grad_norm) and max_grad_norm > 0):
        raise ValueError(f"max_grad_norm must be a float > 0 (use float('inf') to disable clipping), got {max_grad_norm!r}")
    if rollout_buffer_class is not None and not (
        isinstance(rollout_buffer_class, type) and issubclass(rollout_buffer_class, EpisodicRolloutBuffer)
    ):
        raise ValueError(
            f"rollout_buffer_class must be a subclass of EpisodicRolloutBuffer (REINFORCE needs complete episodes), "
            f"got {rollout_buffer_class!r}"
        )
    if not isinstance(normalize_advantage, bool | np.bool_):
        raise ValueError(f"normalize_advantage must be True or False, got {normalize_advantage!r}")
    if isinstance(sde_sample_freq, bool) or not isinstance(sde_sample_freq, int | np.integer) or sde_sample_freq < -1:
        raise ValueError(
            f"sde_sample_freq must be -1 (sample only at the start of a rollout) or an integer >= 0, got {sde_sample_freq!r}"
        )
    positive_int("stats_window_size", stats_window_size)
    # The algorithm passes these to the buffer itself: setting them there too would contradict the algorithm's own.
    # A keyword given twice is a TypeError, as A2C/PPO (and Python) raise for it.
    managed = {"gamma", "n_envs", "device", "max_episode_length", "observation_space", "action_space"}
    clashing = sorted(managed & set(rollout_buffer_kwargs or {}))
    if clashing:
        raise TypeError(
            f"rollout_buffer_kwargs must not set {', '.join(clashing)}: REINFORCE passes them to the buffer from its own "
            "arguments (set gamma, max_episode_length, device on REINFORCE itself)"
        )


def _check_finite(what: str, value: np.ndarray | dict[str, np.ndarray], timestep: int) -> None:
    """
    Stop on NaN/inf coming from the env before it reaches the weights.

    Checked as the network sees the values: in float32 (the policy casts observations with ``.float()``, the buffer
    stores returns as float32), so a float64 value beyond float32's range (``1e300``), which would become ``inf``
    there, is refused too.
    """
    arrays = value.values() if isinstance(value, dict) else (value,)
    for array in arrays:
        if array.dtype.kind != "f":
            continue
        # The usual case in one reduction: a NaN or inf makes a sum NaN or inf, and a float32 array holds nothing beyond
        # float32's range (a sum that overflows goes on to the exact check below).
        if array.dtype == np.float32 and -_FLOAT32_MAX <= array.sum() <= _FLOAT32_MAX:
            continue
        # min/max propagate NaN, and NaN compares False: two reductions catch NaN, inf and float32 overflow.
        if not (array.min() >= -_FLOAT32_MAX and array.max() <= _FLOAT32_MAX):
            bad_envs = np.flatnonzero(~(np.abs(array.reshape(len(array), -1)) <= _FLOAT32_MAX).all(axis=1)).tolist()
            raise ValueError(
                f"Non-finite {what} (NaN, inf or beyond float32's range) from env(s) {bad_envs} at timestep {timestep}: "
                "REINFORCE stopped before it could corrupt the weights. Check the environment (or use VecCheckNan to find "
                "the cause)."
            )
