"""
Model card (``README.md``): the metadata the Hub and the Deep RL course leaderboard read, and a body telling
a reader how to load and run the agent with sb3-reinforce.

The YAML header is produced by huggingface_hub's ``ModelCardData``/``EvalResult`` (which build the
``model-index``), never by hand.
"""

from pprint import pformat
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

ALGO_NAME = "REINFORCE"
TAGS = ("reinforce", "reinforcement-learning", "stable-baselines3", "deep-rl-class", "deep-reinforcement-learning")


def format_mean_reward(mean_reward: float, std_reward: float) -> str:
    """:return: The leaderboard's metric value, ``"<mean> +/- <std>"`` with two decimals"""
    return f"{mean_reward:.2f} +/- {std_reward:.2f}"


def card_metadata(env_id: str, mean_reward: float, std_reward: float) -> ModelCardData:
    """
    :param env_id: Gymnasium id of the environment (the "dataset" of the evaluation)
    :param mean_reward: Mean episodic return of the evaluation
    :param std_reward: Its standard deviation
    :return: ``library_name``, ``tags`` and a ``model-index`` with the ``mean_reward`` metric
    """
    result = EvalResult(
        task_type="reinforcement-learning",
        task_name="reinforcement-learning",
        dataset_type=env_id,
        dataset_name=env_id,
        metric_type="mean_reward",
        metric_name="mean_reward",
        metric_value=format_mean_reward(mean_reward, std_reward),
    )
    return ModelCardData(
        library_name="stable-baselines3",
        tags=[env_id, *TAGS],
        model_name=ALGO_NAME,
        eval_results=[result],
    )


def generate_model_card(
    *,
    repo_id: str,
    model_name: str,
    env_id: str,
    mean_reward: float,
    std_reward: float,
    n_eval_episodes: int,
    is_deterministic: bool,
    hyperparameters: dict[str, Any],
    env_kwargs: dict[str, Any] | None = None,
    has_vec_normalize: bool = False,
    has_video: bool = True,
) -> ModelCard:
    """
    :param repo_id: ``<organization>/<name>`` the card will be pushed to
    :param model_name: Base name of the model files
    :param env_id: Gymnasium id of the environment
    :param mean_reward: Mean episodic return of the evaluation
    :param std_reward: Its standard deviation
    :param n_eval_episodes: Number of evaluation episodes
    :param is_deterministic: Whether the evaluation used deterministic actions
    :param hyperparameters: Shown in the card (rl_zoo3's hyperparameters when available)
    :param env_kwargs: Keyword arguments of the environment, shown when not empty
    :param has_vec_normalize: Whether the repository holds VecNormalize statistics
    :param has_video: Whether the repository holds ``replay.mp4``
    :return: The card
    """
    organization, _, repo_name = repo_id.partition("/")
    metric = format_mean_reward(mean_reward, std_reward)
    policy = "deterministic" if is_deterministic else "stochastic"
    files = [
        f"- `{model_name}.safe.json` + `{model_name}.safe.pth`: the agent in the safe format (JSON description and "
        "PyTorch weights read with `weights_only=True`); `load_from_hub` uses only these by default",
        f"- `{model_name}.zip`: the standard Stable-Baselines3 zip (its loading unpickles data: only with "
        "`trust_remote_code=True`, or for tools such as rl_zoo3, when you trust the author)",
        "- `config.json`: hyperparameters and system info; `results.json`: the evaluation",
    ]
    if has_vec_normalize:
        files.append("- `vec_normalize.json` (safe) and `vec_normalize.pkl` (pickle): the VecNormalize statistics")
    if has_video:
        files.append("- `replay.mp4`: a replay of the agent")
    sections = [
        f"# **{ALGO_NAME}** Agent playing **{env_id}**",
        f"This is a trained model of a **{ALGO_NAME}** (Monte Carlo policy gradient) agent playing **{env_id}**, "
        "trained with [sb3-reinforce](https://pypi.org/project/sb3-reinforce/), REINFORCE for "
        "[Stable-Baselines3](https://github.com/DLR-RM/stable-baselines3).",
        "## Evaluation\n\n| mean_reward | episodes | actions |\n|---|---|---|\n"
        f"| {metric} | {n_eval_episodes} | {policy} |",
        "## Usage (with sb3-reinforce)\n\n```bash\npip install sb3-reinforce\n```\n\n"
        "```python\nimport gymnasium as gym\n\nfrom sb3_reinforce.hub import load_from_hub\n\n"
        f'env = gym.make("{env_id}", render_mode="human")\n'
        "# Safe by default: rebuilds the agent from JSON and tensors, nothing is unpickled\n"
        f'model = load_from_hub("{repo_id}", env=env)\n'
        "vec_env = model.get_env()"
        + ("  # wrapped in VecNormalize with the saved statistics" if has_vec_normalize else "")
        + "\n"
        "obs = vec_env.reset()\nfor _ in range(1000):\n"
        "    action, _ = model.predict(obs, deterministic=True)\n"
        "    obs, rewards, dones, infos = vec_env.step(action)\n```",
        "With the RL Zoo layout (downloads into `logs/`, then runs the agent):\n\n```bash\n"
        f"sb3-reinforce load-from-hub --algo reinforce --env {env_id} -orga {organization} -name {repo_name} -f logs/\n"
        f"sb3-reinforce enjoy --algo reinforce --env {env_id} -f logs/\n```",
        "## Training (with the RL Zoo)\n\n```bash\n"
        f"sb3-reinforce train --algo reinforce --env {env_id} -f logs/\n"
        "# Evaluate, record a replay and upload\n"
        f"sb3-reinforce push-to-hub --algo reinforce --env {env_id} -f logs/ -orga {organization}\n```",
        "## Files\n\n" + "\n".join(files),
        f"## Hyperparameters\n\n```python\n{pformat(hyperparameters)}\n```",
    ]
    if env_kwargs:
        sections.append(f"## Environment arguments\n\n```python\n{pformat(env_kwargs)}\n```")
    metadata = card_metadata(env_id, mean_reward, std_reward)
    return ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n")
