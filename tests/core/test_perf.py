import gc

from wuye.core.perf import collector_paused


def test_only_the_outermost_pause_turns_the_collector_back_on():
    assert gc.isenabled()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_paused_collector_stays_off_when_it_was_off_before():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
