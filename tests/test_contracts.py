"""The private hooks of other packages that Submarine Hub relies on are still there.

Each test names a hook (an underscore method we override or call, a private attribute
we read or set, an undocumented method a subclass of ours overrides) and where we use
it, and fails when a new version of the package removes it, renames it, changes its
signature, or stops calling it. These packages have an upper bound in pyproject.toml
below their next major version; raise it once this file passes with the new major.

=====================  =============================================  ==========================
package                hook                                           used by
=====================  =============================================  ==========================
jupyterhub             ``Spawner._log_name``                          submarine_spawner
jupyterhub             ``LocalProcessSpawner.make_preexec_fn``,        submarine_spawner.local
                       ``user_env``; ``SimpleLocalProcessSpawner``
                       ``home_dir`` default
jupyterhub             ``jupyterhub.utils.exponential_backoff``,       submarine_spawner.kube
                       ``maybe_future``
jupyterhub             ``HubAuthenticated._hub_auth_user_cache``       service.handlers.base
jupyterhub             ``services.auth.check_scopes``,                 serving.server
                       ``HubAuth.user_for_token(sync=, use_cache=)``
jupyterhub-kubespawner ``KubeSpawner._make_create_pod_request``,       submarine_spawner.kube
                       ``_ensure_not_exists``, ``api``; ``slugs``
jupyter_client         ``AsyncKernelClient.wait_for_ready`` override,  backends.local.kernel_pool
                       ``_handle_kernel_info_reply``,
                       ``_async_is_alive``; ``client_factory``;
                       ``LocalProvisioner.pid``
jupyter_server         ``_save_notebook``, ``_save_file``,             server.contents
                       ``_get_os_path`` of the file contents managers
jupyter_server         ``JupyterHandler._jupyter_current_user``        server.standalone
tornado                ``RequestHandler._headers_written``,            service.handlers,
                       ``_finished``, ``_reason``;                     serving.server
                       ``HTTPServerRequest._body_future``
=====================  =============================================  ==========================
"""

from __future__ import annotations

import inspect
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest


def params(func: Any) -> list[str]:
    """The parameter names of ``func``, without ``self``."""
    return [p for p in inspect.signature(func).parameters if p != "self"]


def source(obj: Any) -> str:
    return inspect.getsource(obj)


# --- jupyterhub ------------------------------------------------------------------------


def test_jupyterhub_spawners_have_a_log_name_property() -> None:
    from jupyterhub.spawner import Spawner

    assert isinstance(inspect.getattr_static(Spawner, "_log_name"), property)
    spawner = Spawner.__new__(Spawner)
    spawner.user = mock.Mock()
    spawner.user.name = "alice"
    spawner.orm_spawner = None  # the default server: no name
    assert spawner._log_name == "alice"


def test_the_local_process_spawner_calls_its_preexec_and_user_env_hooks() -> None:
    from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner

    # submarine-local overrides both (with a user of its own) and calls super() without
    assert params(LocalProcessSpawner.make_preexec_fn) == ["name"]
    assert params(LocalProcessSpawner.user_env) == ["env"]
    assert params(SimpleLocalProcessSpawner.make_preexec_fn) == ["name"]
    assert params(SimpleLocalProcessSpawner.user_env) == ["env"]
    assert "self.make_preexec_fn(" in source(LocalProcessSpawner.start)
    assert "self.user_env(" in source(LocalProcessSpawner.get_env)
    # our @default("home_dir") replaces SimpleLocalProcessSpawner's; we read its template
    traits = SimpleLocalProcessSpawner.class_traits()
    assert {"home_dir", "home_dir_template"} <= set(traits)
    assert "{username}" in traits["home_dir_template"].default_value


def test_jupyterhub_utils_keep_the_backoff_and_future_helpers() -> None:
    from jupyterhub.utils import exponential_backoff, maybe_future

    assert inspect.iscoroutinefunction(exponential_backoff)
    assert params(exponential_backoff)[:2] == ["pass_func", "fail_message"]
    assert "timeout" in params(exponential_backoff)
    assert params(maybe_future) == ["obj"]


def test_hub_authenticated_handlers_answer_from_the_user_cache_we_fill() -> None:
    from jupyterhub.services.auth import HubAuthenticated, HubOAuthenticated

    assert issubclass(HubOAuthenticated, HubAuthenticated)
    handler = HubAuthenticated.__new__(HubAuthenticated)
    handler._hub_auth_user_cache = {"name": "alice", "kind": "user"}
    handler.hub_auth = mock.Mock(side_effect=AssertionError("the cache is not read"))
    assert HubAuthenticated.get_current_user(handler) == {"name": "alice", "kind": "user"}
    assert params(HubAuthenticated.check_hub_user) == ["model"]


def test_jupyterhub_token_checks_keep_their_signatures() -> None:
    from jupyterhub.services.auth import HubAuth, check_scopes

    assert params(check_scopes) == ["required_scopes", "scopes"]
    assert check_scopes("read:users", {"read:users"}) == {"read:users"}
    assert {"token", "use_cache", "sync"} <= set(params(HubAuth.user_for_token))
    assert "sync" in params(HubAuth.get_user)


# --- jupyterhub-kubespawner -------------------------------------------------------------


def test_kubespawner_creates_its_pod_through_the_request_method_we_wrap() -> None:
    kubespawner = pytest.importorskip("kubespawner")
    KubeSpawner = kubespawner.KubeSpawner
    assert inspect.iscoroutinefunction(KubeSpawner._make_create_pod_request)
    assert params(KubeSpawner._make_create_pod_request) == ["pod", "request_timeout"]
    assert "self._make_create_pod_request" in source(KubeSpawner._start)


def test_kubespawner_keeps_ensure_not_exists_and_its_api_client() -> None:
    kubespawner = pytest.importorskip("kubespawner")
    KubeSpawner = kubespawner.KubeSpawner
    assert inspect.iscoroutinefunction(KubeSpawner._ensure_not_exists)
    assert params(KubeSpawner._ensure_not_exists) == ["kind", "name"]
    assert "self.api = " in source(KubeSpawner.__init__)
    # any kind: the API's delete_namespaced_<kind> (we pass "secret")
    assert 'f"delete_namespaced_{kind}"' in source(KubeSpawner._ensure_not_exists)


def test_kubespawner_slugs_make_valid_labels() -> None:
    slugs = pytest.importorskip("kubespawner.slugs")
    assert params(slugs.safe_slug)[:1] == ["name"] and "max_length" in params(slugs.safe_slug)
    assert params(slugs.is_valid_label) == ["s"]
    slug = slugs.safe_slug("Data Science!", is_valid=slugs.is_valid_label, max_length=63)
    assert slugs.is_valid_label(slug) and not slugs.is_valid_label("Data Science!")


# --- jupyter_client -----------------------------------------------------------------------


def test_jupyter_client_lets_us_replace_wait_for_ready() -> None:
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    assert inspect.iscoroutinefunction(AsyncKernelClient.wait_for_ready)
    assert params(AsyncKernelClient.wait_for_ready) == ["timeout"]
    # what our wait_for_ready calls, as jupyter_client's own does
    assert params(AsyncKernelClient._handle_kernel_info_reply) == ["msg"]
    assert inspect.iscoroutinefunction(AsyncKernelClient._async_is_alive)
    assert "_handle_kernel_info_reply" in source(AsyncKernelClient.wait_for_ready)
    # the manager makes its clients from client_factory, which we set
    assert "client_factory" in KernelManager.class_traits()
    assert "self.client_factory(" in source(KernelManager.client)
    assert issubclass(AsyncKernelManager, KernelManager)


def test_jupyter_client_local_provisioner_records_the_kernel_pid() -> None:
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    assert "self.pid = self.process.pid" in source(LocalProvisioner.launch_kernel)
    assert "pid" in params(LocalProvisioner.__init__) or hasattr(LocalProvisioner, "pid")


def test_nbclient_waits_for_the_kernel_with_our_client() -> None:
    nbclient = pytest.importorskip("nbclient.client")
    assert "kc.wait_for_ready(timeout=" in source(nbclient.NotebookClient)


# --- jupyter_server -------------------------------------------------------------------------


def test_jupyter_server_saves_through_the_methods_our_contents_manager_overrides() -> None:
    from jupyter_server.services.contents.filemanager import AsyncFileContentsManager
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

    for name, expected in (
        ("_save_notebook", ["os_path", "nb", "capture_validation_error"]),
        ("_save_file", ["os_path", "content", "format"]),
    ):
        method = getattr(AsyncLargeFileManager, name)
        assert inspect.iscoroutinefunction(method), name
        assert params(method) == expected, name
    save = source(AsyncFileContentsManager.save)
    assert "self._save_notebook(os_path, nb, capture_validation_error=" in save
    assert "self._save_file(os_path, " in save
    assert "super()._save_file(" in source(AsyncLargeFileManager.save)
    assert params(AsyncLargeFileManager._get_os_path) == ["path"]


def test_jupyter_server_handlers_keep_the_current_user_attribute() -> None:
    from jupyter_server.base.handlers import JupyterHandler

    # we set it beside current_user after our own authentication, as prepare() does
    assert "self._jupyter_current_user" in source(JupyterHandler.prepare)
    assert "_jupyter_current_user" in source(JupyterHandler.get_current_user)


# --- tornado -----------------------------------------------------------------------------


def _handler() -> Any:
    from tornado import httputil, web

    connection = mock.Mock()
    connection.set_close_callback = mock.Mock()
    request = httputil.HTTPServerRequest(
        start_line=httputil.RequestStartLine("GET", "/", "HTTP/1.1"),
        headers=httputil.HTTPHeaders({"Host": "127.0.0.1"}),
        connection=connection,
    )
    return web.RequestHandler(web.Application(), request)


def test_tornado_handlers_keep_the_private_state_we_read() -> None:
    handler = _handler()
    assert handler._headers_written is False and handler._finished is False
    assert handler._reason == "OK"
    handler.set_status(404)
    assert handler._reason == "Not Found"
    handler.set_status(418, reason="short and stout")
    assert handler._reason == "short and stout"


def test_tornado_streams_request_bodies_through_body_future() -> None:
    from tornado import web

    assert "self.request._body_future = Future()" in source(web._HandlerDelegate)
    assert 404 in HTTPStatus._value2member_map_  # the statuses base.py accepts as codes
