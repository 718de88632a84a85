"""A local emulator of the BentoCloud REST API, for tests, demos and offline notebooks.

Start it with ``python -m bentocloud_jupyter.sandbox`` (prints its URL and token) or in-process::

    from bentocloud_jupyter.sandbox import Sandbox, Faults
    with Sandbox(speed=20) as sb:          # 127.0.0.1, free port, random ``sbx_...`` token
        sb.url, sb.token                   # point BENTO_CLOUD_API_ENDPOINT / _KEY here
        sb.faults.fail_next = 2            # next two API requests answer 503
        sb.stats()                         # {"total", "by_route", "connections"}

It imports nothing from ``bentocloud_jupyter.core``: the client and the emulator are written
independently so one cannot silently mirror the other's bugs. Every success is HTTP 200; errors are
``{"error": "<message>", "code": <status>}``; not-found messages contain ``record not found``.

Seeded data (other parts of the project rely on these names):

* organization ``sandbox``; user ``sandbox-user`` (``you@sandbox.local``, Sandbox User);
* clusters ``gcp-us-central-1`` (default, ``is_first: true``) and ``aws-us-west-2``;
* instance types ``cpu.1``, ``cpu.2``, ``cpu.4``, ``gpu.t4.1``, ``gpu.l4.1`` (default ``cpu.1``);
* bentos (record name == version): ``summarizer`` ``v1``/``v2``/``v3`` (latest v3, entry service
  ``Summarizer``, env ``LOG_LEVEL=info``), ``iris_classifier:v1`` (``IrisClassifier``, model
  ``iris_clf:v1``), ``llm-chat:v1`` (``LLMChat``, requires env ``OPENAI_API_KEY`` at runtime),
  ``fail-demo:v1`` (``FailDemo``, its image build fails);
* models ``iris_clf:v1`` (``bentoml.sklearn``), ``summarizer-model:v1`` (``bentoml.transformers``);
* secret ``openai`` (env type, key ``OPENAI_API_KEY``); API token ``sandbox`` (the start-up token, all
  five scopes).

Secrets (:mod:`.orgsecrets`): ``content`` ``{type: env|mountfile, stage, path, items: [{key, value,
sub_path}]}``, a cluster each (``?cluster=``); values are stored and never sent back (``value: null``).
A deployment may only attach secrets of its own cluster. API tokens (:mod:`.tokens`): the value is in
the create answer only; ``expired_at`` is honoured (401 afterwards); scopes (:mod:`.scopes`): every REST
write needs ``write_organization`` or ``write_cluster``, else 403; ``Sandbox.issue_token(name, scopes,
expires_in)`` makes one for tests.

Lifecycle (seconds at ``speed=1``; divide by ``speed``). Status is computed from timestamps when read:

* create / update (PUT, a new revision; the previous one becomes inactive) / void_update:
  ``deploying`` (0.5 s) -> ``image-building`` (2 s) -> ``deploying`` (1 s) -> ``running``;
* terminate: ``terminating`` (1 s) -> ``terminated``; updating a terminated deployment (PUT with its
  config, as bentoml's ``deployment start`` means to, or ``void_update``) restarts it: BentoCloud has no
  start route;
* a bento whose name contains ``fail`` ends in ``image-build-failed``; a deployment whose name
  contains ``crash`` ends in ``failed``, one containing ``unhealthy`` in ``unhealthy``;
* ``min_replicas == 0`` on the entry service: ``running`` -> ``scaled-to-zero`` after 5 s idle;
  a request to its URL wakes it up again;
* each deployment's ``urls`` is ``[<sandbox url>/_svc/<name>]``; ``GET .../readyz`` answers 200
  while running, 503 otherwise; ``updated_at`` moves when the status changes.

Validation: unknown bento/cluster/secret -> 404, duplicate name -> 409, missing required bento envs,
unknown instance type, bad scaling, a non-integer ``cold_start_timeout`` or ``imageBuildTimeout`` or a
non-DNS name -> 400. Null keys inside ``extras`` are dropped, never echoed (bentoml reads
``imageBuildTimeout`` as a plain int). A null name becomes
``<bento-name>-<6 hex chars>``; a bento without version means its latest version.

Transfers (:mod:`.transfers`): bentos and models upload and download in the mode set by the
``transfer_mode`` knob (``Sandbox(transfer_mode=...)``, the ``Sandbox.transfer_mode`` attribute,
``POST /_sandbox/config``, or ``--transfer-mode``): ``proxy`` (default; ``transmission_strategy:
"proxy"``, ``PUT .../upload`` marks ``success`` itself, ``GET .../download``), ``presigned``
(``transmission_strategy: null``; ``presign_upload_url`` gives one PUT URL, then ``finish_upload``) or
``multipart`` (``"presigned_url"``; ``start_multipart_upload``, one presigned PUT per part of any size
answering an ``ETag`` (quoted md5), ``complete_multipart_upload`` checks the ETags, ``finish_upload``).
Presigned URLs are ``{url}/_storage/{bentos|models}/{repo}/{version}/archive.tar`` (or
``.../parts/{upload_id}/{n}``) ``?expires=<epoch>&signature=<hmac>``: unauthenticated, valid one hour
for one method, 403 (S3-style XML) when forged or expired. Bytes are streamed to a temp directory the
sandbox deletes on stop; seeded bentos/models download a small generated archive. ``upload_status``:
``pending`` -> ``uploading`` -> ``success`` / ``failed`` (with ``upload_finished_reason``).

Websockets (:mod:`.ws`, auth by the ``X-YATAI-API-TOKEN`` upgrade header, else an error message and
close 4401): ``/ws/v1/clusters/{c}/pods?selector=...`` (the image-builder pod while a deployment of that
bento builds), ``/ws/v2/deployments/{name}/pods`` and ``/ws/v1/clusters/{c}/tail`` (base64 log chunks
paced over the build, heartbeats, ``EOF``). Pods are derived from the status (:mod:`.pods`).

Deployed services (:mod:`.services`): ``{url}/_svc/{name}`` serves ``/readyz``, ``/livez``,
``/docs.json`` (OpenAPI 3), ``/schema.json`` (BentoML's service schema, so ``bentoml.SyncHTTPClient``,
``AsyncHTTPClient`` and ``Deployment.get_client()`` work) and the seeded bentos' APIs, deterministically:
summarizer ``POST
/summarize`` ``{"text"}`` -> ``{"summary"}``, iris_classifier ``POST /classify`` ``{"input_data":
[[4 numbers]]}`` -> ``[class ids]``, llm-chat ``POST /chat`` ``{"prompt"}`` -> ``{"reply"}``; 503 unless
running, 401 without ``Authorization: Bearer <token>`` under ``access_authorization``, 400 on a bad body.

Codespaces (:mod:`.codespaces`, what ``bentoml code`` needs): a create with ``dev: true`` has
``manifest.dev`` true and is listed by ``q=is:dev``; ``GET/POST/DELETE /api/v2/deployments/{name}/files``
list ``{path, size, md5}``, take base64 batches and delete by paths (in memory, bounded: 413 past 96 MiB
a request or 256 MiB / 10,000 files a codespace; 400 for paths escaping the root or bad base64; 404 for a
deployment that is not dev). A dev deployment serves nothing until ``.project_ready``; each sync is a
reload (the api-server log says so, readyz answers 503 for 1 s, then 200). The service is read from the
synced files with ``ast`` (:mod:`.devschema`, never run): ``/schema.json``, ``/docs.json`` and the call
routes follow its ``@bentoml.api`` methods and answer small deterministic values; a file that does not
parse keeps readyz at 503 (the log names the error and its line) and the documents at the last good one.

Pages (:mod:`.pages`): ``{url}/deployments/{name}`` (and ``/codespaces/{name}``), the dashboard link
bentoml prints, answers a small escaped HTML page (status, cluster, bento, endpoint); the login page.

Faults (:class:`Faults`, live via attributes or ``POST /_sandbox/faults``): ``latency``,
``error_rate`` + ``error_status``, ``fail_next``, ``rate_limit_next`` + ``retry_after``,
``drop_next`` (connection closed with no response), ``expire_tokens``, ``drop_upload_after`` (upload
bodies, proxy or presigned, cut by closing the connection after N bytes), ``presign_forbidden``
(storage URLs answer 403), and the network model ``storage_bandwidth`` (bytes/s per connection, 0 =
unlimited) and ``storage_rtt`` (seconds before each storage response); presigned GETs honour ``Range``,
and ``Sandbox.blobs.received`` counts the bytes that reached storage; ``Sandbox.expire_token`` expires one
token. Admin routes (no auth, loopback clients only, never faulted, not counted): ``GET/POST
/_sandbox/faults`` (read/set knobs as JSON),
``GET/POST /_sandbox/config`` (``transfer_mode``), ``POST /_sandbox/reset`` (faults back to defaults;
body ``{"state": true}`` also reseeds the store and drops stored bytes), ``GET/DELETE
/_sandbox/stats``, ``GET /_sandbox/deployments/{name}`` (status history and revisions) and
``GET/POST/DELETE /_sandbox/latency`` (the served APIs' latency model, also ``Sandbox.latency``).

``Sandbox.stats()`` (and ``GET /_sandbox/stats``) return ``{"total": int, "by_route": {"GET
/api/v2/deployments/{name}": int, ...}, "connections": int}``, where ``connections`` counts distinct
client (host, port) pairs, so tests can prove connection reuse and one request per poll (websockets are
not counted).

Not emulated yet: codespace files, legacy v1 deployment routes, running uploaded bentos' code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bentocloud_jupyter.sandbox.faults import Faults
    from bentocloud_jupyter.sandbox.server import Sandbox

__all__ = ["Faults", "Sandbox"]


def __getattr__(name: str) -> Any:
    """Import starlette/uvicorn only when the sandbox is actually used."""
    if name == "Sandbox":
        from bentocloud_jupyter.sandbox.server import Sandbox

        return Sandbox
    if name == "Faults":
        from bentocloud_jupyter.sandbox.faults import Faults

        return Faults
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
