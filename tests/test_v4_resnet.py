"""The v4 encoder (potran.bench.v4.resnet) and its random views (potran.bench.v4.augment)."""
import pytest
import torch

from potran.bench.v4 import ARCH
from potran.bench.v4.augment import Augment
from potran.bench.v4.resnet import MEAN, STD, ResNet, n_parameters, resnet


def test_default_encoder_shape_and_feat_dim():
    torch.manual_seed(0)
    net = resnet().eval()
    assert net.feat_dim == ARCH["widths"][-1]
    x = torch.rand(5, 3, 32, 32)
    with torch.no_grad():
        z = net(x)
        m = net.features_map(x)
    assert z.shape == (5, net.feat_dim)
    assert m.shape == (5, net.feat_dim, 32 // 2 ** (len(ARCH["widths"]) - 1),
                       32 // 2 ** (len(ARCH["widths"]) - 1))
    torch.testing.assert_close(z, m.mean(dim=(2, 3)))
    assert torch.isfinite(z).all()


def test_normalisation_is_inside_as_fixed_buffers():
    torch.manual_seed(0)
    net = ResNet((4, 8), (1, 1)).eval()
    state = net.state_dict()
    torch.testing.assert_close(state["mean"].flatten(), torch.tensor(MEAN))
    torch.testing.assert_close(state["std"].flatten(), torch.tensor(STD))
    assert "mean" not in dict(net.named_parameters())  # not trained
    # the stem sees (x - mean) / std: feeding [0, 1] images equals feeding normalised ones to the
    # same network with an identity normalisation
    x = torch.rand(3, 3, 16, 16)
    ident = ResNet((4, 8), (1, 1)).eval()
    ident.load_state_dict({**state, "mean": torch.zeros(1, 3, 1, 1), "std": torch.ones(1, 3, 1, 1)})
    with torch.no_grad():
        torch.testing.assert_close(net(x), ident((x - 0.5) / 0.25))


def test_parameter_count_of_sizes():
    # counted by hand: stem 3*9*w0 + 2*w0, a block 9*(c_in + c_out)*c_out + 4*c_out (+ projection)
    w = (4, 8)
    stem = 3 * 9 * 4 + 2 * 4
    b1 = 9 * 4 * 4 * 2 + 4 * 4
    b2 = 9 * 4 * 8 + 9 * 8 * 8 + 4 * 8 + (4 * 8 + 2 * 8)
    assert n_parameters(ResNet(w, (1, 1))) == stem + b1 + b2


def test_bad_architecture_and_input_say_what_is_wrong():
    with pytest.raises(ValueError, match="same non-zero length"):
        ResNet((4, 8), (1,))
    with pytest.raises(ValueError, match=r"\(B, 3, S, S\)"):
        ResNet((4,), (1,))(torch.rand(2, 1, 8, 8))


def test_augment_same_seed_same_views_and_input_untouched():
    x = torch.rand(6, 3, 32, 32)
    before = x.clone()
    a, b, c = Augment(3), Augment(3), Augment(4)
    va, vb, vc = a(x), b(x), c(x)
    torch.testing.assert_close(va, vb)
    assert not torch.allclose(va, vc)
    torch.testing.assert_close(a.weak(x), b.weak(x))
    torch.testing.assert_close(x, before)  # never modified
    assert va.shape == x.shape and va.dtype == x.dtype


def test_augment_views_stay_in_range_and_state_resumes():
    x = torch.rand(64, 3, 32, 32)
    a = Augment(0)
    for v in (a(x), a.weak(x)):
        assert v.min() >= 0 and v.max() <= 1
    state = a.state_dict()
    first = a(x)
    a.load_state_dict(state)
    torch.testing.assert_close(a(x), first)


def test_weak_view_is_crop_and_flip_only():
    # a constant-colour image stays that colour under crop and flip (no jitter, no greyscale)
    x = torch.tensor([0.9, 0.2, 0.4]).view(1, 3, 1, 1).expand(8, 3, 32, 32).clone()
    torch.testing.assert_close(Augment(1).weak(x), x)
    # the strong view changes colours of some (jitter with p 0.8, greyscale with p 0.2)
    assert not torch.allclose(Augment(1)(x), x)
    # a full-area, no-jitter strong view of a symmetric image is the image
    sym = torch.rand(4, 3, 32, 16)
    sym = torch.cat([sym, sym.flip(-1)], dim=-1)
    ident = Augment(2, scale=(1, 1), ratio=(1, 1), p_jitter=0, p_grey=0)
    torch.testing.assert_close(ident(sym), sym, atol=1e-5, rtol=0)


def test_greyscale_views_have_equal_channels():
    x = torch.rand(32, 3, 16, 16)
    v = Augment(5, p_jitter=0, p_grey=1)(x)
    torch.testing.assert_close(v[:, 0], v[:, 1])
    torch.testing.assert_close(v[:, 1], v[:, 2])


def test_augment_rejects_bad_input_with_one_line():
    a = Augment()
    with pytest.raises(ValueError, match=r"lie in \[0, 1\]"):
        a(torch.full((1, 3, 4, 4), 2.0))
    with pytest.raises(ValueError, match="float tensor"):
        a(torch.zeros(1, 3, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        a.weak(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match="scale must be"):
        Augment(scale=(0.9, 0.1))
