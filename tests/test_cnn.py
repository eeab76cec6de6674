"""CnnPolicy with REINFORCE as with A2C: channel-last images are transposed, models save and load with image envs."""

import numpy as np
import pytest
from stable_baselines3.common.envs import FakeImageEnv
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize, VecTransposeImage

from sb3_reinforce import REINFORCE

CNN_KWARGS = dict(features_extractor_kwargs=dict(features_dim=16), net_arch=[8])


def image_env(channel_first: bool = False, discrete: bool = True) -> FakeImageEnv:
    # 36x36 is the smallest input NatureCNN takes; FakeImageEnv's episodes last 10 steps.
    return FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, channel_first=channel_first, discrete=discrete)


@pytest.mark.parametrize("channel_first", [False, True])
@pytest.mark.parametrize("share_features_extractor", [True, False])
def test_cnn_policy_save_load(tmp_path, channel_first, share_features_extractor):
    policy_kwargs = dict(CNN_KWARGS, share_features_extractor=share_features_extractor)
    model = REINFORCE("CnnPolicy", image_env(channel_first), n_steps=10, baseline="value", policy_kwargs=policy_kwargs, seed=0)
    # Channel-last images are transposed for PyTorch by a VecTransposeImage that SB3 adds.
    assert isinstance(model.get_env(), VecTransposeImage) == (not channel_first)
    model.learn(20)
    assert model._n_updates == 2
    raw_obs = np.stack([image_env(channel_first).observation_space.sample() for _ in range(6)])
    expected, _ = model.predict(raw_obs, deterministic=True)  # predict takes the env's own layout
    model.save(tmp_path / "cnn.zip")

    loaded = REINFORCE.load(tmp_path / "cnn.zip", env=image_env(channel_first))
    np.testing.assert_array_equal(loaded.predict(raw_obs, deterministic=True)[0], expected)
    loaded.learn(10, reset_num_timesteps=False)
    assert loaded.num_timesteps == 30


@pytest.mark.parametrize("normalize_images", [True, False])
def test_float_image_like_observations(normalize_images):
    # After VecNormalize the images are floats: they can only be used with normalize_images=False, as with A2C.
    env = VecNormalize(DummyVecEnv([lambda: image_env(channel_first=True)]))
    policy_kwargs = dict(CNN_KWARGS, normalize_images=normalize_images)
    if normalize_images:
        with pytest.raises(AssertionError, match="normalize_images=False"):
            REINFORCE("CnnPolicy", env, policy_kwargs=policy_kwargs)
    else:
        REINFORCE("CnnPolicy", env, n_steps=10, policy_kwargs=policy_kwargs, seed=0).learn(10)


def test_already_transposed_images_are_not_transposed_again():
    env = VecTransposeImage(DummyVecEnv([lambda: image_env(channel_first=False, discrete=False)]))
    model = REINFORCE("CnnPolicy", env, n_steps=10, policy_kwargs=CNN_KWARGS, seed=0)
    assert model.get_env() is env and model.observation_space.shape == (1, 36, 36)
    model.learn(10)


@pytest.mark.parametrize("baseline", ["value", "none"])
def test_image_rollouts_record_the_value_baseline(baseline):
    # With images, a value baseline comes from the rollout's pass through the CNN, not from a second pass at update time.
    model = REINFORCE("CnnPolicy", image_env(), baseline=baseline, n_steps=20, policy_kwargs=CNN_KWARGS, seed=0)
    assert model._rollout_values == (baseline == "value")
    model.learn(20)
    values = model.rollout_buffer.values
    assert len(values) == 20
    if baseline == "value":
        assert not np.isnan(values).any()
    else:
        assert np.isnan(values).all()
