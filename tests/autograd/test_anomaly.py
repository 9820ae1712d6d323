"""cr.autograd.detect_anomaly: the first op producing NaN/inf, in forward or backward, is named."""

import numpy as np
import pytest

import chainrule as cr


def test_forward_nan_names_op_and_shapes():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    msg = r"detect_anomaly.*forward of Log.*\(2,\)"
    with cr.autograd.detect_anomaly(), pytest.raises(RuntimeError, match=msg):
        (x.log() * 0.0).sum()


def test_forward_nan_from_inf_times_zero_names_mul():
    x = cr.tensor([1e30, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="forward of Mul"), cr.autograd.detect_anomaly():
        big = x * 1e30  # inf: the Mul is named
        big.sum()


def test_forward_reports_where_created():
    x = cr.tensor([-1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"test_anomaly\.py") as err, cr.autograd.detect_anomaly():
        x.sqrt()
    assert "Sqrt" in str(err.value)


def test_backward_nan_names_op():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = x.sqrt().sum()  # forward finite; d sqrt/dx = inf at 0
        with pytest.raises(RuntimeError, match=r"detect_anomaly: backward of Sqrt.*\(2,\)") as err:
            y.backward()
    assert "test_anomaly.py" in str(err.value)


def test_backward_zero_over_zero_nan_names_op():
    x = cr.tensor([0.0, 2.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = (x.sqrt() * 0.0).sum()  # forward is 0, finite
        with pytest.raises(RuntimeError, match=r"backward of Sqrt.*NaN"):
            y.backward()  # d sqrt at 0 times an upstream 0: 0 / 0


def test_no_anomaly_no_error_and_restores_flag():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        assert cr.autograd.is_anomaly_enabled()
        (x.log() * x).sum().backward()
    assert not cr.autograd.is_anomaly_enabled()
    np.testing.assert_allclose(x.grad.numpy(), np.log([1.0, 2.0]) + 1, rtol=1e-6)


def test_without_anomaly_nan_passes_silently():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    y = (x.log() * 0.0).sum()
    assert np.isnan(y.item())
    y.backward()
    assert np.isnan(x.grad.numpy()[0])


def test_anomaly_under_no_grad_still_checks_forward():
    with pytest.raises(RuntimeError, match="Log"), cr.autograd.detect_anomaly(), cr.no_grad():
        cr.tensor([-1.0]).log()


def test_anomaly_flag_restored_after_error():
    with pytest.raises(RuntimeError), cr.autograd.detect_anomaly():
        cr.tensor([0.0]).log()
    assert not cr.autograd.is_anomaly_enabled()
