"""The console client against the lab's `console` subresource: a real websocket over
HTTPS with the kubeconfig's token, a real login on a real pseudo-terminal."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from suite.cluster.errors import Cancelled
from suite.cluster.kube import Kube
from suite.guest.console import ConsoleError, ConsoleSession, ConsoleTimeout, Credentials
from suite.vm import userdata
from suite.vm.manifests import VM_API, GuestSpec, virtual_machine
from tests.checks.labhelp import kube_in_new_namespace

GUEST = GuestSpec("quay.io/containerdisks/fedora:41", "fedora", "s3cret-probe")


def running_vm(kube: Kube, name: str) -> str:
    namespace = kube.namespace or ""
    kube.create(userdata.secret(f"{name}-init", namespace, GUEST))
    kube.create(virtual_machine(name, namespace, GUEST, [], user_data_secret=f"{name}-init"))
    return running_vm_wait(kube, name)


def running_vm_wait(kube: Kube, name: str) -> str:
    kube.wait_for(VM_API, "VirtualMachineInstance", name,
                  lambda vmi: (vmi.get("status") or {}).get("phase") == "Running", 60,
                  f"VMI {name} running")
    return name


@pytest.fixture(scope="module")
def guest(kubeconfig_path: Path) -> Iterator[tuple[Kube, str]]:
    """One guest for the module: the console serves one client at a time, as KubeVirt's."""
    kube = kube_in_new_namespace(kubeconfig_path)
    yield kube, running_vm(kube, "console-a")
    assert not kube.cleanup.run_all()


def session(kube: Kube, vmi: str, password: str = GUEST.password) -> ConsoleSession:
    return ConsoleSession(kube.api_client, kube.namespace or "", vmi,
                          Credentials(GUEST.user, password), login_timeout_s=20)


@pytest.mark.slow
def test_login_run_and_reconnect(guest: tuple[Kube, str]) -> None:
    with session(*guest) as shell:
        result = shell.run("echo hello; echo err >&2; exit_code() { return 3; }; exit_code")
        assert result.exit_code == 3
        assert result.output.splitlines() == ["hello", "err"]
        assert shell.run("test -x /usr/local/bin/kvs-probe").exit_code == 0
        shell.run("export KVS_MARK=still-here")
        shell.reconnect()
        # the same shell survives the reconnect, as a serial console's does
        assert shell.run("echo $KVS_MARK").output.strip() == "still-here"


@pytest.mark.slow
def test_timeout_names_the_command_and_leaves_the_shell_usable(guest: tuple[Kube, str]
                                                               ) -> None:
    with session(*guest) as shell:
        with pytest.raises(ConsoleTimeout, match="'echo start; sleep 30' did not finish"):
            shell.run("echo start; sleep 30", timeout_s=1.5)
        assert shell.run("echo after", timeout_s=10).output.strip() == "after"


@pytest.mark.slow
def test_ctrl_c_stops_a_running_command_at_once(guest: tuple[Kube, str]) -> None:
    kube, vmi = guest
    cancel = threading.Event()
    shell = ConsoleSession(kube.api_client, kube.namespace or "", vmi,
                           Credentials(GUEST.user, GUEST.password), login_timeout_s=20,
                           cancel=cancel)
    with shell:
        threading.Timer(1.0, cancel.set).start()
        started = time.monotonic()
        with pytest.raises(Cancelled, match="'sleep 60' ran on"):
            shell.run("sleep 60", timeout_s=120)
        assert time.monotonic() - started < 10  # not the command's minute
        cancel.clear()
        # the command was interrupted in the guest too: the shell answers the next one
        assert shell.run("echo after", timeout_s=10).output.strip() == "after"


@pytest.mark.slow
def test_long_payload_goes_through_put_file(guest: tuple[Kube, str]) -> None:
    payload = "A1b2" * 1500
    path = f"/tmp/kvs-payload-{secrets.token_hex(4)}"  # the lab guest shares the host's /tmp
    with session(*guest) as shell:
        shell.put_file(path, payload)
        assert shell.run(f"wc -c < {path}; rm -f {path}").output.strip() == str(len(payload))


@pytest.mark.slow
def test_bad_password_is_one_clear_line(guest: tuple[Kube, str]) -> None:
    kube, vmi = guest
    shell = session(kube, vmi)
    shell.open()
    shell.logout()
    with pytest.raises(ConsoleError, match=r"login as 'fedora' .* was refused"):
        session(kube, vmi, password="wrong").open()
    with session(kube, vmi) as shell:  # getty is back at login: for the next client
        assert shell.run("true").exit_code == 0


def test_missing_vmi_is_a_clean_error(guest: tuple[Kube, str]) -> None:
    kube = guest[0]
    shell = ConsoleSession(kube.api_client, kube.namespace or "", "no-such-vmi",
                           Credentials("u", "p"), login_timeout_s=2)
    with pytest.raises(ConsoleError, match="cannot open the console of no-such-vmi: HTTP 404"):
        shell.open()
