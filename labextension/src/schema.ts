/**
 * The platform API's types, generated from its OpenAPI document
 * (submarine_hub/service/openapi.yaml, as the service serves it).
 * Do not edit: change the document, then run `jlpm gen:api`.
 */
/* eslint-disable */
export interface paths {
  '/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness and metastore reachability (no authentication) */
    get: operations['getHealth'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This document */
    get: operations['getOpenAPI'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Prometheus metrics (hub admins and services)
     * @description The service's metrics in Prometheus' text format:
     *     `submarine_request_duration_seconds` (a histogram by `route`, `method` and
     *     `code`; its `_count` counts requests), `submarine_info` (the version) and the
     *     Python process' own. Scrape it with a JupyterHub service's token
     *     (`Authorization: token ...`); JupyterHub's own metrics are at `/hub/metrics`.
     */
    get: operations['getMetrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The caller, their teams, admin flag and scopes */
    get: operations['getMe'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/teams': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Teams you can see (yours; every team for hub admins) */
    get: operations['listTeams'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/teams/{team}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team's name (a JupyterHub group). */
        team: string;
      };
      cookie?: never;
    };
    /** One team you belong to */
    get: operations['getTeam'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Change a team's platform settings (hub admins) */
    patch: operations['updateTeam'];
    trace?: never;
  };
  '/teams/{team}/room': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team's name (a JupyterHub group). */
        team: string;
      };
      cookie?: never;
    };
    /**
     * The team's collaboration room (members)
     * @description Whether the team's room (a JupyterHub server of the team's collaboration account, shared with the team's group) runs, and its URL. Code in it runs as the team.
     */
    get: operations['getTeamRoom'];
    put?: never;
    /**
     * Open the team's collaboration room (members)
     * @description Makes the team's collaboration account on first use, shares its server with the team's group and starts it (with the team's quota, environment and credentials). Open the answer's `url` once its state is "ready".
     */
    post: operations['openTeamRoom'];
    /**
     * Stop the team's collaboration room (members)
     * @description Stops the room's server, for everyone in it: its kernels and terminals end; what was saved stays in the team's folder and its history. A room never opened is answered as stopped. Opening it again starts it.
     */
    delete: operations['stopTeamRoom'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/environments': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Environments you can use (global ones and your teams'; all for admins) */
    get: operations['listEnvironments'];
    put?: never;
    /** Add an environment (global ones by admins, a team's by its members) */
    post: operations['createEnvironment'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/environments/{scope}/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /** One environment */
    get: operations['getEnvironment'];
    put?: never;
    post?: never;
    /** Delete an environment */
    delete: operations['deleteEnvironment'];
    options?: never;
    head?: never;
    /** Change an environment */
    patch: operations['updateEnvironment'];
    trace?: never;
  };
  '/environments/{scope}/{name}/build': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /** The environment's build on the local backend (state, progress, log) */
    get: operations['getEnvironmentBuild'];
    put?: never;
    /** Build the environment now (once; concurrent requests share the build) */
    post: operations['buildEnvironment'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Your and your teams' credentials (names only; every one for admins) */
    get: operations['listCredentials'];
    put?: never;
    /** Store a credential (your own; admins for any user or team) */
    post: operations['createCredential'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{owner_kind}/{owner}/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        owner_kind: 'user' | 'team';
        owner: string;
        name: string;
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a credential */
    delete: operations['deleteCredential'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Active sessions (yours; every one for admins) */
    get: operations['listSessions'];
    put?: never;
    /**
     * Admit a session against its team's quota (JupyterHub's spawner only)
     * @description Needs the scope custom:submarine:sessions. Answers the grant, credentials included.
     */
    post: operations['admitSession'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions/{session_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: components['schemas']['Id'];
      };
      cookie?: never;
    };
    /** A session's grant again, with its environment's build status (spawner only) */
    get: operations['getSession'];
    put?: never;
    post?: never;
    /** Release a session's quota (the spawner when it stops; admins) */
    delete: operations['stopSession'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sessions/{session_id}/stop': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: components['schemas']['Id'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Stop a session's server (its user or an admin); its quota is then released */
    post: operations['stopSessionServer'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/spawn-options/{user}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        user: string;
      };
      cookie?: never;
    };
    /** The teams and environments a user may spawn with (spawner only) */
    get: operations['getSpawnOptions'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Files of a space (yours, or a team's you are in) */
    get: operations['listFiles'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/versions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A file's history, newest first
     * @description The versions of the file at the path now. A file created where another was deleted has its own history; `earlier_files=1` adds the versions of the files deleted at this path before (restorable by number).
     */
    get: operations['listVersions'];
    put?: never;
    /**
     * Record a version (a save)
     * @description Send the file's `content` and `format`, or a `manifest` naming content-addressed
     *     parts plus the `parts` the store lacks (base64). A 409 with `missing` lists parts
     *     to send; a 409 without it means the file changed since `base_version`.
     *     With an `Idempotency-Key` the file already has, nothing is recorded and the
     *     answer is the version that key made: a retry or replay never records twice.
     */
    post: operations['saveVersion'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/content': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A version's content (the newest without `version`) */
    get: operations['getFileContent'];
    put?: never;
    post?: never;
    /** Delete a file (a new version records it; restore a version to recover) */
    delete: operations['deleteFile'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/restore': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Make an old version the newest again (as a new version) */
    post: operations['restoreVersion'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/diff': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Cell-level diff of two versions (nbdime), or a line diff of text files */
    get: operations['diffVersions'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A notebook version as text (jupytext) */
    get: operations['exportVersion'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/shares': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Who a file is shared with */
    get: operations['listShares'];
    put?: never;
    /** Share a file with a user or a team, read-only or read-write */
    post: operations['shareFile'];
    /** Stop sharing a file with someone */
    delete: operations['unshareFile'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/files/shared-with-me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Files others shared with you or your teams */
    get: operations['sharedWithMe'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Search runs, newest first (your teams'; every one for admins)
     * @description Keyset pagination; pass the answer's `next` as `before` for the next page.
     */
    get: operations['listExperiments'];
    put?: never;
    /** Submit a run (queued until its team's quota and the backend allow) */
    post: operations['submitExperiment'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiment-schema': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The experiment spec's JSON Schema (no authentication) */
    get: operations['getExperimentSchema'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    /** A run with its spec, replicas, log names, latest metrics and params */
    get: operations['getExperiment'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}/kill': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Kill a run (its owner or an admin) */
    post: operations['killExperiment'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}/rerun': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Submit the same spec again, as a new run of the caller */
    post: operations['rerunExperiment'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}/logs': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    /** A replica's log (text); with follow=1, streamed until the run ends */
    get: operations['getExperimentLogs'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}/spark': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    /** A Spark run's application (task spark, or Spark SQL) - its executors and UI link */
    get: operations['getExperimentSpark'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}/spark/ui/{subpath}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
        /** @description A page of the driver's UI (jobs/, stages/...); may hold slashes. */
        subpath: string;
      };
      cookie?: never;
    };
    /** The live Spark UI of a running Spark run, relayed from its driver (team members only) */
    get: operations['getExperimentSparkUI'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}/artifacts': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    /** List a run's artifacts, or download one with `path` */
    get: operations['getExperimentArtifacts'];
    /** Add a file to a live run's artifacts (its owner or its token; streamed, any size; X-Content-SHA256 checks it; a file of the same path is replaced) */
    put: operations['putExperimentArtifact'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}/artifacts/preview': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    /**
     * The head of a run's Parquet artifact as JSON (columns with types, first rows)
     * @description Reads only the file's first record batches. Values are JSON-ready: times in ISO 8601, bytes in base64, decimals as strings, NaN as null, long text cut at 1,000 characters; at most 100 columns.
     */
    get: operations['previewExperimentArtifact'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/{run_id}/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    /** Latest value of each metric; with `key`, that metric's history (downsampled) */
    get: operations['getExperimentMetrics'];
    put?: never;
    /** Log a batch of metric points and params (the run's own token, its owner) */
    post: operations['logExperimentMetrics'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/uploads': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Upload a code folder (.tar.gz) for `code: {upload: ID}` */
    post: operations['uploadCode'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/templates': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Templates you can use (global and your teams') */
    get: operations['listTemplates'];
    put?: never;
    /** Add a template (team members for their team; admins for global ones) */
    post: operations['createTemplate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/templates/{scope}/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /** A template, with its parameters as a JSON Schema */
    get: operations['getTemplate'];
    put?: never;
    post?: never;
    /** Delete a template */
    delete: operations['deleteTemplate'];
    options?: never;
    head?: never;
    /** Change a template's description, parameters or spec */
    patch: operations['updateTemplate'];
    trace?: never;
  };
  '/templates/{scope}/{name}/runs': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Run a template with parameters (each bad parameter is named in the 400) */
    post: operations['runTemplate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/pipelines': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Pipelines of your teams, newest first */
    get: operations['listPipelines'];
    put?: never;
    /** Submit a pipeline (a DAG of steps); a cycle or a missing step is refused */
    post: operations['submitPipeline'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/pipelines/{pipeline_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        pipeline_id: components['parameters']['PipelineId'];
      };
      cookie?: never;
    };
    /** A pipeline with the status and run of each step */
    get: operations['getPipeline'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/pipelines/{pipeline_id}/terminate': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        pipeline_id: components['parameters']['PipelineId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Kill the running steps and cancel the rest */
    post: operations['terminatePipeline'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/pipelines/{pipeline_id}/retry': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        pipeline_id: components['parameters']['PipelineId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Run the failed steps again (and the steps below them) */
    post: operations['retryPipeline'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/compare': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Params and latest metrics of runs side by side */
    get: operations['compareExperiments'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/experiments/search': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The runs table, searched with MLflow's filter syntax (your teams' runs; every one for admins)
     * @description `filter` is MLflow's search syntax (`metrics.accuracy > 0.9 and params.model = 'rf'`, `tags.stage = 'prod'`, `attributes.status = 'FINISHED'`, `attributes.parent_id = 12`, AND only); metrics compare by their latest value. `order_by` is repeated or comma-separated (`metrics.accuracy DESC`, `params.lr`, `start_time`); runs without a sorted metric or param come last. A bad expression is a 400 whose message gives the character where the problem is. See docs/run-explorer.md.
     */
    get: operations['searchExperiments'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/tensorboards': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Open TensorBoard over runs that wrote tfevents files (started, or reused; stopped when idle)
     * @description The answer's `url` (under the service) relays to the TensorBoard for callers who may read every one of its runs. Needs the `tensorboard` package on the service (`pip install 'submarine-hub[tensorboard]'`); runs must keep local artifacts.
     */
    post: operations['openTensorBoard'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/tracking/runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Start an interactive run (what a notebook session logs goes to it) */
    post: operations['startTrackingRun'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/tracking/runs/{run_id}/heartbeat': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Say the process tracking an interactive run is alive
     * @description Sent by the tracking helpers every `heartbeat_interval` seconds (given when the run starts); a run that misses four is ended as failed.
     */
    post: operations['heartbeatTrackingRun'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/tracking/runs/{run_id}/end': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** End an interactive run */
    post: operations['endTrackingRun'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Registered models of your teams */
    get: operations['listModels'];
    put?: never;
    /** Register a model (versions are added to it) */
    post: operations['createModel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/{team}/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /** A model with its versions and aliases */
    get: operations['getModel'];
    put?: never;
    post?: never;
    /** Delete a model, its versions and their files (not while an endpoint serves it) */
    delete: operations['deleteModel'];
    options?: never;
    head?: never;
    /** Change description, tags, or archive */
    patch: operations['updateModel'];
    trace?: never;
  };
  '/models/{team}/{name}/versions': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /** A model's versions, newest first */
    get: operations['listModelVersions'];
    put?: never;
    /** A new version, empty (then PUT files, then POST ready) or from a run's outputs */
    post: operations['createModelVersion'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/{team}/{name}/versions/{version}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    /** A version (by number or alias) */
    get: operations['getModelVersion'];
    put?: never;
    post?: never;
    /** Delete a version and its files */
    delete: operations['deleteModelVersion'];
    options?: never;
    head?: never;
    /** Change description, tags, or archive */
    patch: operations['updateModelVersion'];
    trace?: never;
  };
  '/models/{team}/{name}/versions/{version}/ready': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Finish an upload; the version becomes ready (immutable) */
    post: operations['finalizeModelVersion'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/{team}/{name}/versions/{version}/files': {
    parameters: {
      query: {
        /** @description The file's path in the version. */
        path: string;
      };
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    /** Download a file (streamed; X-Content-SHA256 gives its hash) */
    get: operations['getModelFile'];
    /** Upload a file of an uploading version (streamed, any size; X-Content-SHA256 checks it) */
    put: operations['putModelFile'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/models/{team}/{name}/aliases/{alias}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        alias: string;
      };
      cookie?: never;
    };
    get?: never;
    /** Point an alias (production, staging, any name) at a ready version */
    put: operations['setModelAlias'];
    post?: never;
    /** Remove an alias */
    delete: operations['deleteModelAlias'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/datasets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Datasets you can use (your teams' and shared ones) */
    get: operations['listDatasets'];
    put?: never;
    /** Add a dataset to the catalog */
    post: operations['createDataset'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/datasets/{team}/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /** A dataset */
    get: operations['getDataset'];
    put?: never;
    post?: never;
    /** Remove a dataset from the catalog (the data is not touched) */
    delete: operations['deleteDataset'];
    options?: never;
    head?: never;
    /** Change a dataset's fields (members of its team) */
    patch: operations['updateDataset'];
    trace?: never;
  };
  '/lineage': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The lineage graph around one object: datasets, runs, model versions, endpoints */
    get: operations['getLineage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/endpoints': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Serving endpoints of your teams */
    get: operations['listEndpoints'];
    put?: never;
    /**
     * Serve a model version or alias (or split traffic between versions)
     * @description The endpoint starts (`starting`), then answers at `/services/<service>/predict`
     *     through the hub's proxy with a hub token of a member of its team (`ready`).
     */
    post: operations['createEndpoint'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/endpoints/{team}/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /** An endpoint, what its server serves now, and its request counts and latencies */
    get: operations['getEndpoint'];
    put?: never;
    post?: never;
    /** Stop an endpoint (record and logs kept); with purge=1 delete them too */
    delete: operations['stopEndpoint'];
    options?: never;
    head?: never;
    /**
     * Rolling update to new versions, weights or options (no request dropped)
     * @description The server loads the new generation beside the current one, then switches.
     *     With an empty object, aliases are resolved again (after an alias moved).
     */
    patch: operations['updateEndpoint'];
    trace?: never;
  };
  '/endpoints/{team}/{name}/logs': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /** The endpoint server's log (text); with follow=1, streamed until it stops */
    get: operations['getEndpointLogs'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/endpoints/{team}/{name}/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    /**
     * Requests, errors and latency over time (the endpoint's traffic charts)
     * @description As the endpoint's server process counts its predict requests: per `step` seconds over the last `window` seconds (at most the last hour, since the process started), every step present (zeros without requests). A stopped endpoint, or one whose server does not answer now, has no points and a `message`.
     */
    get: operations['getEndpointMetrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/notebook-jobs/parameters': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The parameters of a notebook's cell tagged `parameters` (papermill's convention)
     * @description Each top-level assignment of the cell is a parameter: its type is its annotation, else the type of its literal default (`int`, `float`, `str`, `bool`, `list`, `dict`, `any`); its help is the line's comment.
     */
    get: operations['getNotebookParameters'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/notebook-jobs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The jobs of one notebook, newest first
     * @description Single runs and fan-out parents (with their children's count by status) whose notebook is `notebook` (in `space`, default from the path), from every origin (the lab, the CLI, the magics, schedules), of the teams the caller is in.
     */
    get: operations['listNotebookJobs'];
    put?: never;
    /**
     * Run a notebook with parameters (one run, or a fan-out of child runs)
     * @description The notebook (at its newest or a pinned version) runs with papermill as an experiment run of kind `notebook`; its executed notebook is kept as `jobs/<notebook>/<run id>.ipynb` in the run's team space. Bad parameter values are refused with a 400 naming each one.
     */
    post: operations['runNotebookJob'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/notebook-jobs/{run_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    /** A notebook job with its notebook version, executed output, error cell and children */
    get: operations['getNotebookJob'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/notebook-schedules': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Notebook schedules of your teams (every one for admins) */
    get: operations['listNotebookSchedules'];
    put?: never;
    /**
     * Run a notebook job on a cron schedule
     * @description `cron` has 5 fields, or 6 with seconds first. Firings more than `SubmarineService.schedule_misfire_grace` seconds late (the service was down) follow `catchup`: `skip` records them as skipped, `run_once` runs once for them.
     */
    post: operations['createNotebookSchedule'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/notebook-schedules/{schedule_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        schedule_id: components['parameters']['ScheduleId'];
      };
      cookie?: never;
    };
    /** A schedule with its latest firings */
    get: operations['getNotebookSchedule'];
    put?: never;
    post?: never;
    /** Delete a schedule (its runs stay) */
    delete: operations['deleteNotebookSchedule'];
    options?: never;
    head?: never;
    /** Change, pause (`{"paused": true}`) or resume a schedule (its owner or an admin) */
    patch: operations['updateNotebookSchedule'];
    trace?: never;
  };
  '/notebook-schedules/{schedule_id}/runs': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        schedule_id: components['parameters']['ScheduleId'];
      };
      cookie?: never;
    };
    /** A schedule's firings, newest first (the run each started, or why none) */
    get: operations['listNotebookScheduleRuns'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/usage': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Usage and cost of your teams (all teams for admins), grouped
     * @description Resource-hours and cost at the admin's prices, per the groups asked for (`item` gives one row per record: a session, a run replica, an endpoint's up-period, a build), over `since` to `until` (default: this month so far). Open records count up to now.
     */
    get: operations['usageReport'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/usage/teams': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Your teams' quota, current usage, spend this month, budget and free GPUs */
    get: operations['usageTeams'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/usage/prices': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The prices per resource unit */
    get: operations['getPrices'];
    /**
     * Set the prices from now on (hub admins)
     * @description Past usage keeps the prices of its time; see /usage/prices/versions.
     */
    put: operations['setPrices'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/usage/prices/versions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Every version of the prices, oldest first
     * @description Each version is in effect from its effective_at until the next one's; usage is priced at the prices in effect when it happened.
     */
    get: operations['listPriceVersions'];
    put?: never;
    /**
     * Set prices from a time on (hub admins)
     * @description The prices apply from effective_at (now when missing; never in the past) on; past usage keeps the prices of its time. A version not yet in effect at the same time is replaced.
     */
    post: operations['addPriceVersion'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/usage/prices/versions/{version_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        version_id: components['schemas']['Id'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Withdraw a price change not yet in effect (hub admins) */
    delete: operations['deletePriceVersion'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/usage/budgets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Budgets of your teams (all for admins) */
    get: operations['listBudgets'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/usage/budgets/{team}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
      };
      cookie?: never;
    };
    /** A team's budget and what it has spent this period */
    get: operations['getBudget'];
    /** Set a team's budget (hub admins) */
    put: operations['setBudget'];
    post?: never;
    /** Remove a team's budget (hub admins) */
    delete: operations['deleteBudget'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/studies': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Tuning studies of your teams, newest first */
    get: operations['listStudies'];
    put?: never;
    /**
     * Start a hyper-parameter tuning study (Optuna sampler and pruner; trials are runs)
     * @description Its trials start at once, `parallelism` at a time (at most the team's `max_running_experiments`), until `trials` were asked for or `timeout` seconds of study time passed. A parameter with `when` is asked for only when earlier categorical parameters have the given values.
     */
    post: operations['createStudy'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/studies/{study_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    /** A study with its trials and its best trial */
    get: operations['getStudy'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/studies/{study_id}/stop': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Stop a study (no new trials; running trials are killed and counted as failed) */
    post: operations['stopStudy'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/studies/{study_id}/resume': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Run a stopped or finished study again, optionally with more trials */
    post: operations['resumeStudy'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/studies/{study_id}/importances': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    /** Parameter importances over the completed trials (Optuna's fANOVA evaluator) */
    get: operations['getStudyImportances'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/studies/{study_id}/trials/next': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * A worker run of a function study: end its trials and take the next ones
     * @description Only a worker run of the study (with its run token) calls this. Asked again before it reports, it gets the same trial again (with a new token): never a second one.
     */
    post: operations['nextStudyTrial'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/study-trials/{run_id}/report': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * A trial's intermediate objective at a step; answers whether to stop (pruned)
     * @description Stored as the run's objective metric at `step`, then judged by the study's pruner. Called by the trial's run (`submarine_hub.report(value, step)`) or the study's owner.
     */
    post: operations['reportStudyTrial'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/create': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create an experiment in the team */
    post: operations['mlflowPostExperimentsCreate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/get': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** An experiment by id ("0": the team's Default) */
    get: operations['mlflowGetExperimentsGet'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/get-by-name': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** An experiment by name */
    get: operations['mlflowGetExperimentsGetByName'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/search': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** Search the team's experiments */
    get: operations['mlflowGetExperimentsSearch'];
    put?: never;
    /** Search the team's experiments */
    post: operations['mlflowPostExperimentsSearch'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/update': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Rename an experiment */
    post: operations['mlflowPostExperimentsUpdate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/delete': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Delete an experiment (restorable) */
    post: operations['mlflowPostExperimentsDelete'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/restore': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Restore a deleted experiment */
    post: operations['mlflowPostExperimentsRestore'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/set-experiment-tag': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Set a tag of an experiment */
    post: operations['mlflowPostExperimentsSetExperimentTag'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/experiments/delete-experiment-tag': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Delete a tag of an experiment */
    post: operations['mlflowPostExperimentsDeleteExperimentTag'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/create': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Start a run (an interactive platform run owned by the caller) */
    post: operations['mlflowPostRunsCreate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/get': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** A run, with its metrics, params, tags, inputs and outputs */
    get: operations['mlflowGetRunsGet'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/update': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Rename or end a run (a platform-executed run's status is the platform's) */
    post: operations['mlflowPostRunsUpdate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/delete': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Delete a run (restorable) */
    post: operations['mlflowPostRunsDelete'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/restore': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Restore a deleted run */
    post: operations['mlflowPostRunsRestore'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/log-metric': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Log one metric point */
    post: operations['mlflowPostRunsLogMetric'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/log-parameter': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Log a parameter */
    post: operations['mlflowPostRunsLogParameter'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/set-tag': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Set a tag of a run */
    post: operations['mlflowPostRunsSetTag'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/delete-tag': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Delete a tag of a run */
    post: operations['mlflowPostRunsDeleteTag'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/log-batch': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Log metrics (at most 1000), params (100) and tags (100) at once; a point sent again is kept once */
    post: operations['mlflowPostRunsLogBatch'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/log-inputs': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Record a run's inputs: datasets and (MLflow 3) logged models of the team */
    post: operations['mlflowPostRunsLogInputs'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/outputs': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Record a run's model outputs (known from the logged models' source run) */
    post: operations['mlflowPostRunsOutputs'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/log-model': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** MLflow 2's log-model record (checked, not kept: the logged model says it) */
    post: operations['mlflowPostRunsLogModel'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/runs/search': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Search runs with MLflow's filter and order_by syntax */
    post: operations['mlflowPostRunsSearch'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/metrics/get-history': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** Every point of one metric of a run */
    get: operations['mlflowGetMetricsGetHistory'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/artifacts/list': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** List a run's artifacts */
    get: operations['mlflowGetArtifactsList'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/logged-models': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create a logged model (MLflow 3) */
    post: operations['mlflowPostLoggedModels'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/logged-models/{model_id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
      };
      cookie?: never;
    };
    /** A logged model */
    get: operations['mlflowGetLoggedModelsModelId'];
    put?: never;
    post?: never;
    /** Not supported (501): delete its run instead */
    delete: operations['mlflowDeleteLoggedModelsModelId'];
    options?: never;
    head?: never;
    /** Finalize a logged model (its status) */
    patch: operations['mlflowPatchLoggedModelsModelId'];
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/logged-models/{model_id}/tags': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Set tags of a logged model */
    patch: operations['mlflowPatchLoggedModelsModelIdTags'];
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/logged-models/{model_id}/tags/{tag_key}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
        tag_key: string;
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a tag of a logged model */
    delete: operations['mlflowDeleteLoggedModelsModelIdTagsTagKey'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/logged-models/{model_id}/params': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Log params of a logged model */
    post: operations['mlflowPostLoggedModelsModelIdParams'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/logged-models/search': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Search the team's logged models */
    post: operations['mlflowPostLoggedModelsSearch'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/create': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Register a model in the team (a platform registry model) */
    post: operations['mlflowPostRegisteredModelsCreate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/get': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** A registered model */
    get: operations['mlflowGetRegisteredModelsGet'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/update': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Change a registered model's description */
    patch: operations['mlflowPatchRegisteredModelsUpdate'];
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/rename': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Not supported (501): register the versions under the new name */
    post: operations['mlflowPostRegisteredModelsRename'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/delete': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a registered model, its versions and their files */
    delete: operations['mlflowDeleteRegisteredModelsDelete'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/set-tag': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Set a tag of a registered model */
    post: operations['mlflowPostRegisteredModelsSetTag'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/delete-tag': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a tag of a registered model */
    delete: operations['mlflowDeleteRegisteredModelsDeleteTag'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/search': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** Search the team's registered models */
    get: operations['mlflowGetRegisteredModelsSearch'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/get-latest-versions': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** The latest version of a registered model */
    get: operations['mlflowGetRegisteredModelsGetLatestVersions'];
    put?: never;
    /** The latest version of a registered model */
    post: operations['mlflowPostRegisteredModelsGetLatestVersions'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/registered-models/alias': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** The version an alias points at */
    get: operations['mlflowGetRegisteredModelsAlias'];
    put?: never;
    /** Point an alias at a version (the platform's aliases) */
    post: operations['mlflowPostRegisteredModelsAlias'];
    /** Delete an alias */
    delete: operations['mlflowDeleteRegisteredModelsAlias'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/create': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Register a version: its files are copied from the run or logged model */
    post: operations['mlflowPostModelVersionsCreate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/get': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** A model version */
    get: operations['mlflowGetModelVersionsGet'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/get-download-uri': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** Where a version's files are downloaded from */
    get: operations['mlflowGetModelVersionsGetDownloadUri'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/update': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Change a version's description */
    patch: operations['mlflowPatchModelVersionsUpdate'];
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/set-tag': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Set a tag of a version */
    post: operations['mlflowPostModelVersionsSetTag'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/transition-stage': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Not supported (501): stages are deprecated, use aliases */
    post: operations['mlflowPostModelVersionsTransitionStage'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/delete': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a version and its files */
    delete: operations['mlflowDeleteModelVersionsDelete'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/delete-tag': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a tag of a version */
    delete: operations['mlflowDeleteModelVersionsDeleteTag'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow/model-versions/search': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** Search the team's model versions */
    get: operations['mlflowGetModelVersionsSearch'];
    put?: never;
    /** Search the team's model versions */
    post: operations['mlflowPostModelVersionsSearch'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow-artifacts/artifacts': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    /** List a folder of artifacts (mlflow-artifacts:/runs/<id>/..., models/<id>/..., registry/<name>/<version>/...) */
    get: operations['mlflowListArtifacts'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/{team}/api/2.0/mlflow-artifacts/artifacts/{path}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        /** @description the artifact's path (slashes included) */
        path: string;
      };
      cookie?: never;
    };
    /** Download an artifact (streamed) */
    get: operations['mlflowDownloadArtifact'];
    /** Upload an artifact of a run or logged model the caller writes (streamed into the artifact store) */
    put: operations['mlflowUploadArtifact'];
    post?: never;
    /** Not supported (501): a run's files stay with it */
    delete: operations['mlflowDeleteArtifact'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    MlflowError: {
      /** @description MLflow's code: INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, RESOURCE_ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED, ENDPOINT_NOT_FOUND, NOT_IMPLEMENTED, ... */
      error_code: string;
      message: string;
    };
    MlflowTag: {
      key?: string;
      value?: string | number | boolean | null;
    };
    MlflowMetric: {
      key?: string;
      /** @description a number; NaN and infinities as MLflow sends them */
      value?: number | string;
      /** @description int64 (MLflow's JSON may send it as a string) */
      timestamp?: number | string;
      /** @description int64 (MLflow's JSON may send it as a string) */
      step?: number | string;
      model_id?: string;
      dataset_name?: string;
      dataset_digest?: string;
      run_id?: string;
    };
    MlflowExperiment: {
      experiment_id?: string;
      name?: string;
      artifact_location?: string;
      /** @enum {unknown} */
      lifecycle_stage?: 'active' | 'deleted';
      creation_time?: number | null;
      last_update_time?: number | null;
      tags?: {
        key?: string;
        value?: string;
      }[];
    };
    MlflowRunInfo: {
      run_id?: string;
      run_uuid?: string;
      run_name?: string;
      experiment_id?: string;
      user_id?: string;
      /** @enum {unknown} */
      status?: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
      start_time?: number | null;
      end_time?: number | null;
      artifact_uri?: string;
      /** @enum {unknown} */
      lifecycle_stage?: 'active' | 'deleted';
    };
    MlflowDatasetInput: {
      dataset?: {
        name?: string;
        digest?: string;
        source_type?: string;
        source?: string;
        schema?: string;
        profile?: string;
      };
      tags?: {
        key?: string;
        value?: string;
      }[];
    };
    MlflowModelInput: {
      model_id?: string;
    };
    MlflowRun: {
      info?: components['schemas']['MlflowRunInfo'];
      data?: {
        metrics?: components['schemas']['MlflowMetric'][];
        params?: {
          key?: string;
          value?: string;
        }[];
        /** @description MLflow's tags; a run the platform ended (its client gone) says why in submarine.end_reason */
        tags?: {
          key?: string;
          value?: string;
        }[];
      };
      inputs?: {
        dataset_inputs?: components['schemas']['MlflowDatasetInput'][];
        model_inputs?: components['schemas']['MlflowModelInput'][];
      };
      outputs?: {
        model_outputs?: {
          model_id?: string;
          step?: number;
        }[];
      };
    };
    MlflowFileInfo: {
      path?: string;
      is_dir?: boolean;
      file_size?: number;
    };
    MlflowLoggedModel: {
      info?: {
        model_id?: string;
        experiment_id?: string;
        name?: string;
        artifact_uri?: string;
        creation_timestamp_ms?: number | null;
        last_updated_timestamp_ms?: number | null;
        status?: string;
        model_type?: string;
        source_run_id?: string;
        tags?: {
          key?: string;
          value?: string;
        }[];
      };
      data?: {
        params?: {
          key?: string;
          value?: string;
        }[];
        metrics?: components['schemas']['MlflowMetric'][];
      };
    };
    MlflowModelVersion: {
      name?: string;
      version?: string;
      creation_timestamp?: number | null;
      last_updated_timestamp?: number | null;
      user_id?: string;
      current_stage?: string;
      description?: string | null;
      source?: string;
      /** @enum {unknown} */
      status?: 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
      tags?: {
        key?: string;
        value?: string;
      }[];
      aliases?: string[];
      run_id?: string;
      model_id?: string;
    };
    MlflowRegisteredModel: {
      name?: string;
      creation_timestamp?: number | null;
      last_updated_timestamp?: number | null;
      user_id?: string;
      description?: string | null;
      latest_versions?: components['schemas']['MlflowModelVersion'][];
      tags?: {
        key?: string;
        value?: string;
      }[];
      aliases?: {
        alias?: string;
        version?: string;
      }[];
    };
    TrialResult: {
      run_id: components['schemas']['Id'];
      value?: number;
      error?: string;
    };
    StudySpec: {
      name: string;
      team?: string;
      description?: string;
      objective: {
        /** @description A metric every trial logs. */
        metric: string;
        /**
         * @default maximize
         * @enum {string}
         */
        direction: 'maximize' | 'minimize';
      };
      /** @description parameter: {type: float|int|categorical, low, high, log, step, choices, when} */
      space: {
        [key: string]: {
          /** @enum {string} */
          type: 'float' | 'int' | 'categorical';
          low?: number;
          high?: number;
          log?: boolean;
          step?: number;
          choices?: unknown[];
          /** @description Earlier categorical parameter: value. */
          when?: Record<string, unknown>;
        };
      };
      sampler?: {
        /** @enum {string} */
        name: 'random' | 'grid' | 'tpe' | 'cmaes' | 'gp';
        seed?: number;
        startup_trials?: number;
      };
      pruner?: {
        /** @enum {string} */
        name: 'none' | 'median' | 'successive_halving' | 'hyperband';
        startup_trials?: number;
        warmup_steps?: number;
        interval_steps?: number;
        min_resource?: number;
        max_resource?: number;
        reduction_factor?: number;
      };
      /** @default 20 */
      trials: number;
      /** @default 1 */
      parallelism: number;
      /** @description Seconds of study time. */
      timeout?: number | null;
      /** @description Exactly one of `template` (a template's name), `command` (argv with `${param}`), `notebook` (a path; with `space`, `version`: a notebook job on warm kernels) or `function` (`package.module:function`, called by the study's worker runs), with fixed `parameters`, `resources`, `environment` and `env`. */
      trial: {
        template?: string;
        command?: string[];
        notebook?: string;
        function?: string;
        /** @description function: trials a worker takes per call */
        batch?: number;
        space?: string;
        version?: number;
        parameters?: Record<string, unknown>;
        env?: {
          [key: string]: string;
        };
        resources?: Record<string, unknown>;
        environment?: Record<string, unknown>;
      };
    };
    StudyTrial: {
      number: number;
      /** @enum {string} */
      state: 'running' | 'complete' | 'pruned' | 'failed';
      params: Record<string, unknown>;
      value: number | null;
      /** @description Why it was pruned or failed. */
      reason: string;
      run_id: number | null;
      intermediate?: {
        [key: string]: number;
      };
      run_status?: string;
      duration?: number | null;
      /** Format: date-time */
      created_at?: string | null;
      /** Format: date-time */
      finished_at?: string | null;
    };
    Study: {
      id: number;
      name: string;
      team: string;
      owner: string;
      /** @enum {string} */
      status: 'running' | 'stopped' | 'finished' | 'failed';
      reason: string;
      objective: {
        metric?: string;
        /** @enum {string} */
        direction?: 'maximize' | 'minimize';
      };
      sampler: string;
      pruner: string;
      /** @enum {string} */
      trial_kind?: 'template' | 'command' | 'notebook' | 'function';
      trials?: number;
      /** @description trials, at most the grid's size */
      trial_limit?: number;
      parallelism?: number;
      timeout?: number | null;
      /** @description Seconds of study time so far. */
      elapsed?: number;
      counts: {
        [key: string]: number;
      };
      best: null | components['schemas']['StudyTrial'];
      /** Format: date-time */
      created_at?: string;
      /** Format: date-time */
      finished_at?: string | null;
      spec?: Record<string, unknown>;
      items?: components['schemas']['StudyTrial'][];
    };
    /** @description An id or version number (a positive 64-bit integer). */
    Id: number;
    /** NotebookJob */
    NotebookJob: {
      /** @description Path of the notebook: in your space, or teams/<team>/... in a team's. Required unless 'content' is given. */
      notebook?: string;
      /** @description user:NAME or team:NAME (default: from path) */
      space?: string;
      /** @description Pinned version. */
      version?: number;
      /** @description An inline notebook (nbformat 4) instead of a path: kept as jobs/<name>/<name>.ipynb in the team's space (a new version each time), then run. */
      content?: Record<string, unknown>;
      /** @description name: value */
      parameters?: Record<string, unknown>;
      /** @description An upload (POST /uploads: a .tar.gz of the notebook's folder) whose files are beside the notebook when it runs; the notebook itself is the stored version. A schedule keeps this snapshot. */
      files?: string;
      /** @description Fan-out: one child run per set (each merged over 'parameters'). */
      parameter_sets?: Record<string, unknown>[];
      /** @description Fan-out: one child run per combination of these values. */
      grid?: {
        [key: string]: unknown[];
      };
      name?: string;
      team?: string;
      tags?: string[];
      description?: string;
      environment?: {
        profile?: string;
        image?: string;
        readonly profile_id?: number;
      };
      resources?: {
        /** @description Cores, like 0.5 or 2. */
        cpu?: number | string | null;
        /** @description Bytes, or 512M, 2G, 1Gi (null: no limit). */
        memory?: number | string | null;
        gpus?: number;
      };
      timeout?: number;
      env?: {
        [key: string]: string | number | boolean;
      };
      /** @description Credentials the run gets, by name; null: all it may use. */
      credentials?: string[] | null;
    };
    NotebookParameter: {
      name: string;
      /** @enum {string} */
      type: 'int' | 'float' | 'str' | 'bool' | 'list' | 'dict' | 'any';
      /** @description The default, when it is a literal (else null). */
      default: unknown;
      /** @description The default as written in the notebook. */
      source: string;
      help?: string;
      nullable?: boolean;
    };
    NotebookParameters: {
      notebook: {
        space: string;
        path: string;
        version: number;
      };
      parameters: components['schemas']['NotebookParameter'][];
      has_parameters_cell: boolean;
    };
    /** @description An Experiment (kind `notebook`) with what a notebook job adds. */
    NotebookJobRun: components['schemas']['Experiment'] & {
      parameters?: Record<string, unknown> | null;
      /** @description The notebook version that ran. */
      notebook?: {
        space?: string;
        path?: string;
        version?: number;
      };
      /** @description The executed notebook (`version` null until the run ended). */
      output?: {
        space: string;
        path: string;
        /** @description Where JupyterLab shows it. */
        lab_path?: string | null;
        version?: number | null;
      };
      /** @description The cell that raised. */
      error?: {
        /** @description Its index among the notebook's own cells (0-based; papermill's error banners and injected parameters are not counted). */
        index: number;
        /** @description Its index in the executed notebook. */
        executed_index?: number;
        execution_count?: number | null;
        ename: string;
        evalue: string;
        source?: string;
      } | null;
      /** @description A fan-out's children: each one (a job), or their count by status (an item of the list of a notebook's jobs). */
      children?:
        | {
            id: number;
            name: string;
            status: string;
            reason?: string | null;
            parameters?: Record<string, unknown> | null;
            metrics?: {
              [key: string]: number;
            };
            output?: Record<string, unknown>;
          }[]
        | {
            total: number;
            by_status: {
              [key: string]: number;
            };
          };
      /** @description A fan-out's children: counts by status; min, max, mean of each metric. */
      summary?: {
        total: number;
        by_status: {
          [key: string]: number;
        };
        metrics: {
          [key: string]: {
            min: number;
            min_run: number;
            max: number;
            max_run: number;
            mean: number;
            count: number;
          };
        };
      };
    };
    NotebookSchedule: {
      id: number;
      name: string;
      team: string;
      owner: string;
      notebook: string;
      cron: string;
      timezone: string;
      /** @enum {string} */
      catchup: 'skip' | 'run_once';
      paused: boolean;
      /** Format: date-time */
      next_run_at: string | null;
      /** Format: date-time */
      last_run_at: string | null;
      job: components['schemas']['NotebookJob'];
      history?: components['schemas']['ScheduleFiring'][];
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      updated_at?: string;
    };
    ScheduleFiring: {
      /** Format: date-time */
      scheduled_for?: string;
      /** Format: date-time */
      created_at?: string;
      /** @description Why no run was started (skipped, refused), or empty. */
      error?: string;
      run?: {
        id?: number;
        name?: string;
        status?: string;
        reason?: string;
        started_at?: string | null;
        finished_at?: string | null;
      } | null;
    };
    Model: {
      id: number;
      team: string;
      name: string;
      ref: string;
      owner: string;
      description?: string;
      tags?: {
        [key: string]: string;
      };
      archived?: boolean;
      latest_version: number;
      /** @description alias: version */
      aliases: {
        [key: string]: number;
      };
      versions?: components['schemas']['ModelVersion'][];
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      updated_at?: string;
    };
    ModelVersion: {
      model: string;
      version: number;
      id: number;
      /** @enum {string} */
      status: 'uploading' | 'ready' | 'archived';
      owner: string;
      description?: string;
      framework?: string;
      signature?: Record<string, unknown> | null;
      metrics?: {
        [key: string]: number;
      };
      tags?: {
        [key: string]: string;
      };
      aliases: string[];
      source_run_id?: number | null;
      source_notebook?: {
        space?: string;
        path?: string;
        version?: number;
      } | null;
      storage_uri?: string;
      files: components['schemas']['FileEntry'][];
      size: number;
      /** Format: date-time */
      created_at: string;
    };
    /** @description A file of a model version, or of a run's artifacts. */
    FileEntry: {
      path: string;
      size: number;
      sha256?: string;
    };
    DatasetFields: {
      name?: string;
      team?: string;
      /** @description s3://bucket/key, https://..., or an absolute path. */
      uri?: string;
      format?: string;
      description?: string;
      tags?: string[];
      schema?: Record<string, unknown> | null;
      size?: number | null;
      /** @description Readable by every team. */
      shared?: boolean;
    };
    SparkApplication: {
      run_id: number;
      /** @description The application's name (submarine-run-ID). */
      name?: string | null;
      master?: string | null;
      app_id?: string | null;
      running: boolean;
      /** @description Executors the application holds now. */
      executors: number;
      cores?: number;
      /** @description The live UI through the service, relative to api/v1 (null once it ended). */
      ui?: string | null;
      /** @description Where the event log is in the run's artifacts. */
      event_log?: string;
    };
    Dataset: components['schemas']['DatasetFields'] & {
      id: number;
      team: string;
      name: string;
      uri: string;
      /** @description team/name */
      ref: string;
      owner: string;
      /** @description The run whose result this is (a SQL run's dataset), if a run made it. */
      source_run_id?: number | null;
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      updated_at?: string;
    };
    EndpointRoute: {
      /** @description A model of the endpoint's team. */
      model: string;
      /** @description A version number or an alias (default `production`). */
      version?: string | number;
      /** @description Share of the traffic (required when there are several routes). */
      weight?: number;
      script?: string;
      /** @enum {string} */
      loader?: 'auto' | 'sklearn' | 'onnx' | 'script';
      method?: string;
    };
    EndpointUpdate: {
      model?: string;
      version?: string | number;
      routes?: components['schemas']['EndpointRoute'][];
      /** @enum {string} */
      loader?: 'auto' | 'sklearn' | 'onnx' | 'script';
      /** @description A .py file of the version: load(path), predict(model, inputs). */
      script?: string | null;
      /** @enum {string} */
      method?: 'predict' | 'predict_proba' | 'decision_function' | 'transform';
      threads?: number;
      access_log?: boolean;
      /** @description Join rows of concurrent requests into one call of a row-wise model (default true). */
      batching?: boolean;
      description?: string;
      resources?: components['schemas']['Resources'];
    };
    EndpointCreate: components['schemas']['EndpointUpdate'] & {
      name: string;
      team?: string;
    };
    Endpoint: {
      id: number;
      team: string;
      name: string;
      ref: string;
      owner: string;
      /** @enum {string} */
      status: 'starting' | 'ready' | 'updating' | 'failed' | 'stopped';
      reason?: string;
      description?: string;
      /** @description Bumped by every update. */
      generation: number;
      routes: {
        model: string;
        version: number;
        ref: string;
        weight: number;
        framework?: string;
        loader?: string;
      }[];
      spec?: Record<string, unknown>;
      /** @description Its JupyterHub service. */
      service?: string;
      /** @description /services/<service>/ */
      path?: string;
      url: string;
      predict_url: string;
      backend?: string;
      /** @description What the server serves now (GET of one endpoint). */
      serving?: {
        state?: string;
        generation?: number;
        versions?: Record<string, unknown>[];
      };
      /** @description Requests, errors and latency percentiles (ms), in total and per version. */
      stats?: {
        total?: components['schemas']['EndpointStats'];
        versions?: {
          [key: string]: components['schemas']['EndpointStats'];
        };
      } | null;
      /** Format: date-time */
      created_at?: string | null;
      /** Format: date-time */
      updated_at?: string | null;
    };
    EndpointStats: {
      requests?: number;
      errors?: number;
      mean_ms?: number | null;
      p50_ms?: number | null;
      p90_ms?: number | null;
      p99_ms?: number | null;
    };
    DataPreview: {
      /** @enum {string} */
      format: 'parquet';
      columns: {
        name: string;
        /** @description Arrow's type, such as int64 or string. */
        type: string;
      }[];
      rows: unknown[][];
      /** @description Rows in the whole file. */
      num_rows: number;
      /** @description Columns in the whole file (at most 100 shown). */
      num_columns: number;
    };
    EndpointMetrics: {
      endpoint: string;
      status: string;
      step_s: number;
      window_s: number;
      /** @description The server's clock (seconds since the epoch). */
      now?: number;
      /** @description Why there are no points. */
      message?: string;
      points: {
        /** @description Start of the step (seconds since the epoch). */
        t: number;
        requests: number;
        errors: number;
        /** @description Requests per second over the step. */
        rate: number;
        mean_ms?: number | null;
        p50_ms?: number | null;
        p90_ms?: number | null;
        p99_ms?: number | null;
      }[];
    };
    /** ExperimentSpec */
    ExperimentSpec: {
      meta: {
        name: string;
        team?: string;
        tags?: string[];
        /** @enum {unknown} */
        framework?: 'none' | 'pytorch' | 'tensorflow';
        description?: string;
      };
      environment?: {
        profile?: string;
        image?: string;
        readonly profile_id?: number;
      };
      task:
        | {
            /** @description A shell command line, or an argv list. */
            command: string | string[];
          }
        | {
            script: string;
            args?: string[];
          }
        | {
            notebook: string;
            parameters?: Record<string, unknown>;
            /** @description The versioned notebook a notebook job runs (set by the platform). */
            source?: {
              space?: string;
              path?: string;
              version?: number;
            };
          }
        | {
            template: string;
            parameters?: Record<string, unknown>;
          }
        | {
            /** @description A PySpark application: a script, a module or a notebook. */
            spark: {
              script?: string;
              module?: string;
              notebook?: string;
              args?: string[];
              parameters?: Record<string, unknown>;
              conf?: {
                [key: string]: string | number | boolean;
              };
              driver?: {
                cores?: number;
                /** @description Bytes, or 512M, 2G, 1Gi. */
                memory?: number | string;
              };
              executor?: {
                instances?: number;
                cores?: number;
                /** @description Bytes, or 512M, 2G, 1Gi. */
                memory?: number | string;
              };
            } & (unknown | unknown | unknown);
          }
        | {
            /** @description A query with bound parameters (:name) against a team's connection, or Spark SQL. */
            sql: {
              query?: string;
              file?: string;
              parameters?: {
                [key: string]: string | number | boolean | null;
              };
              connection?: string;
              /** @enum {unknown} */
              engine?: 'sqlalchemy' | 'spark';
              max_rows?: number;
              formats?: ('parquet' | 'csv')[];
              dataset?: string;
              driver?: {
                cores?: number;
                /** @description Bytes, or 512M, 2G, 1Gi. */
                memory?: number | string;
              };
              executor?: {
                instances?: number;
                cores?: number;
                /** @description Bytes, or 512M, 2G, 1Gi. */
                memory?: number | string;
              };
            } & (unknown | unknown);
          };
      /** @description Roles and their replicas; one role 'main' with 1 replica if absent. */
      spec?: {
        [key: string]: {
          replicas?: number;
          resources?: {
            /** @description Cores, like 0.5 or 2. */
            cpu?: number | string | null;
            /** @description Bytes, or 512M, 2G, 1Gi (null: no limit). */
            memory?: number | string | null;
            gpus?: number;
          };
          /** @description A shell command line, or an argv list. */
          command?: string | string[];
        };
      };
      resources?: {
        /** @description Cores, like 0.5 or 2. */
        cpu?: number | string | null;
        /** @description Bytes, or 512M, 2G, 1Gi (null: no limit). */
        memory?: number | string | null;
        gpus?: number;
      };
      code?:
        | {
            git: {
              url: string;
              ref?: string;
            };
          }
        | {
            upload: string;
          };
      env?: {
        [key: string]: string | number | boolean;
      };
      /** @description Credentials the run gets, by name; null: all it may use. */
      credentials?: string[] | null;
      inputs?: {
        name: string;
        dataset?: string;
        uri?: string;
        from?: string;
      }[];
      outputs?: {
        name: string;
        path: string;
      }[];
      timeout?: number;
    };
    Experiment: {
      id: number;
      name: string;
      team: string;
      owner: string;
      /** @enum {string} */
      kind: 'command' | 'script' | 'notebook' | 'interactive' | 'spark' | 'sql';
      /** @enum {string} */
      status: 'pending' | 'running' | 'succeeded' | 'failed' | 'killed';
      reason?: string;
      tags?: string[];
      template?: string | null;
      parent_id?: number | null;
      rerun_of?: number | null;
      pipeline_id?: number | null;
      pipeline_step?: string | null;
      backend?: string;
      exit_code?: number | null;
      /** @description A kill was asked for; the run is stopping. */
      kill_requested?: boolean;
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      started_at?: string | null;
      /** Format: date-time */
      finished_at?: string | null;
      duration?: number | null;
      spec?: components['schemas']['ExperimentSpec'];
      /** @description A template's or a notebook job's parameters. */
      parameters?: Record<string, unknown> | null;
      metrics?: {
        [key: string]: number;
      };
      params?: {
        [key: string]: string;
      };
      logs?: string[];
      replicas?: {
        name?: string;
        status?: string;
        exit_code?: number | null;
      }[];
    };
    Template: {
      name: string;
      team?: string | null;
      description?: string;
      parameters?: {
        [key: string]: {
          /** @enum {string} */
          type?: 'string' | 'integer' | 'number' | 'boolean';
          default?: unknown;
          required?: boolean;
          choices?: unknown[];
          minimum?: number;
          maximum?: number;
          description?: string;
        };
      };
      /** @description The parameters as a JSON Schema. */
      parameters_schema?: Record<string, unknown>;
      /** @description An experiment spec using ${name} placeholders. */
      spec: Record<string, unknown>;
      builtin?: boolean;
      /** @description Given by the service. */
      id?: number;
      /** @description Given by the service: its team, or _global. */
      scope?: string;
      /** @description Given by the service: scope/name, or name for a global one. */
      ref?: string;
      /** @description Given by the service. */
      owner?: string;
      /** Format: date-time */
      created_at?: string;
      /** Format: date-time */
      updated_at?: string;
    };
    PipelineSpec: {
      name: string;
      team?: string;
      tags?: string[];
      steps: {
        name: string;
        depends_on?: string[];
        spec?: components['schemas']['ExperimentSpec'];
        template?: string;
        parameters?: Record<string, unknown>;
      }[];
    };
    Pipeline: {
      id?: number;
      name?: string;
      team?: string;
      owner?: string;
      /** @enum {string} */
      status?: 'running' | 'succeeded' | 'failed' | 'killed';
      reason?: string;
      steps?: {
        name?: string;
        depends_on?: string[];
        /** @enum {string} */
        status?:
          'waiting' | 'pending' | 'running' | 'succeeded' | 'failed' | 'killed' | 'upstream_failed';
        run_id?: number | null;
      }[];
    };
    Error: {
      status: number;
      message: string;
    };
    Health: {
      /** @enum {string} */
      status: 'ok';
      version: string;
      database: string;
    };
    TeamRef: {
      name: string;
      description: string;
    };
    Me: {
      name: string;
      /** @enum {string} */
      kind: 'user' | 'service';
      admin: boolean;
      teams: components['schemas']['TeamRef'][];
      scopes: string[];
      /** Format: date-time */
      server_time?: string;
    };
    Team: {
      name: string;
      description: string;
      members: string[];
      /** Format: date-time */
      updated_at?: string | null;
      quota?: components['schemas']['Quota'];
      usage?: components['schemas']['Usage'];
    };
    TeamUpdate: {
      description?: string;
      quota?: components['schemas']['Quota'];
    };
    Resources: {
      /** @description Cores. */
      cpu?: number | null;
      /** @description Bytes */
      memory?: number | string | null;
      gpus?: number;
    };
    /** @description Limits of a team; null is no limit. */
    Quota: {
      max_sessions?: number | null;
      max_cpu_per_session?: number | null;
      max_memory_per_session?: number | string | null;
      max_gpus_per_session?: number | null;
      max_cpu_total?: number | null;
      max_memory_total?: number | string | null;
      max_gpus_total?: number | null;
      max_running_experiments?: number | null;
    };
    Usage: {
      sessions?: number;
      cpu?: number;
      memory?: number;
      gpus?: number;
      running_experiments?: number;
    };
    EnvironmentCreate: {
      name: string;
      /** @description The owning team; null for a global environment. */
      team?: string | null;
      description?: string;
      /** @description Container image used on Kubernetes. */
      image?: string;
      /** @description pip requirement lines. */
      packages?: string[];
      /** @description The text of a conda environment.yml. */
      conda?: string;
      resources?: components['schemas']['Resources'];
    };
    EnvironmentUpdate: {
      description?: string;
      image?: string;
      packages?: string[];
      conda?: string;
      resources?: components['schemas']['Resources'];
    };
    Build: {
      /** @enum {string} */
      state: 'pending' | 'building' | 'ready' | 'failed';
      progress?: number;
      step?: string;
      error?: string | null;
      prefix?: string;
      kernel_name?: string;
      log?: string;
    };
    Environment: {
      id: number;
      scope: string;
      team?: string | null;
      name: string;
      /** @description scope/name */
      ref: string;
      owner: string;
      description?: string;
      image?: string;
      packages: string[];
      conda?: string;
      resources: Record<string, unknown>;
      build?: components['schemas']['Build'];
      /** Format: date-time */
      created_at?: string;
      /** Format: date-time */
      updated_at?: string;
    };
    CredentialCreate: {
      /**
       * @default user
       * @enum {string}
       */
      owner_kind: 'user' | 'team';
      /** @description The user or team; default yourself. */
      owner?: string;
      name: string;
      /**
       * @default env
       * @enum {string}
       */
      kind: 'env' | 'file';
      /** @description Variable name */
      target?: string;
      value?: string;
      value_base64?: string;
    };
    Credential: {
      owner_kind: string;
      owner: string;
      name: string;
      kind: string;
      target: string;
      size: number;
      created_by?: string;
      /** Format: date-time */
      created_at?: string;
      /** Format: date-time */
      updated_at?: string;
    };
    SessionRequest: {
      user: string;
      server_name?: string;
      team?: string | null;
      /** @description scope/name */
      environment?: string | null;
      resources?: components['schemas']['Resources'];
    };
    Session: {
      id: number;
      user: string;
      server_name?: string;
      team: string;
      environment_id?: number | null;
      resources?: Record<string, unknown>;
      /** @enum {string} */
      state: 'active' | 'stopped';
      /** Format: date-time */
      created_at?: string;
      /** Format: date-time */
      stopped_at?: string | null;
    };
    SessionGrant: components['schemas']['Session'] & {
      environment?: components['schemas']['Environment'] | null;
      env?: {
        [key: string]: string;
      };
      files?: {
        path?: string;
        content_base64?: string;
        mode?: number;
      }[];
      /** @description At admission: the team's budget is past its warning threshold, or spent under policy allow (the session starts; the spawn page tells the user). */
      budget_warning?: string | null;
    };
    Version: {
      space: string;
      path: string;
      number: number;
      parent?: number | null;
      /** @enum {string} */
      action: 'save' | 'restore' | 'delete';
      author: string;
      /** @description Everyone whose edits the version holds (a team room's may have several). */
      authors?: string[];
      message?: string;
      size: number;
      /** @enum {string} */
      format: 'notebook' | 'text' | 'base64';
      /** Format: date-time */
      created_at: string;
    };
    TeamRoom: {
      team: string;
      /** @description The team's collaboration account (a hub user). */
      account: string;
      /** @enum {string} */
      state: 'stopped' | 'starting' | 'ready' | 'stopping';
      /** @description The room's JupyterLab, on the team's folder. */
      url: string;
      created_by?: string | null;
      /**
       * @description Code in the room runs as the team.
       * @enum {string}
       */
      runs_as: 'team';
    };
    FileInfo: {
      space?: string;
      path?: string;
      format?: string;
      latest?: number;
      deleted?: boolean;
      /** Format: date-time */
      updated_at?: string;
      size?: number;
      author?: string;
    };
    Save: {
      space: string;
      path: string;
      /** @enum {string} */
      format?: 'notebook' | 'text' | 'base64';
      /** @description A notebook (JSON), text, or base64 bytes. */
      content?: unknown;
      manifest?: Record<string, unknown>;
      parts?: {
        [key: string]: string;
      };
      size?: number;
      message?: string;
      base_version?: number | null;
      /** @description The path (same space) the file was renamed from: a file new at `path` takes that path's history first, so its history follows the rename. */
      moved_from?: string;
      /** @description The content is this earlier version written back (a session's "Revert to checkpoint"): the new version is recorded as a `restore`. */
      restored_from?: number;
      /** @description Everyone whose edits the content holds; only a team's room may name them, in its team's space (403 otherwise). */
      authors?: string[];
    };
    Share: {
      space?: string;
      path?: string;
      /** @enum {string} */
      kind?: 'user' | 'team';
      with?: string;
      /** @enum {string} */
      mode?: 'r' | 'rw';
      created_by?: string;
      /** Format: date-time */
      created_at?: string;
    };
    UsageAmounts: {
      seconds: number;
      cpu_hours: number;
      memory_gb_hours: number;
      gpu_hours: number;
      session_hours: number;
      cost: number;
      /** @description Stored bytes (kind disk) in GB held an hour. */
      disk_gb_hours?: number;
    };
    UsageReport: {
      /** Format: date-time */
      since: string;
      /** Format: date-time */
      until: string;
      currency: string;
      group_by: string[];
      items: (components['schemas']['UsageAmounts'] & {
        team?: string;
        user?: string;
        kind?: string;
        day?: string;
        month?: string;
        key?: string;
        object_id?: number;
        replica?: string;
        /** Format: date-time */
        started_at?: string;
        /** Format: date-time */
        ended_at?: string | null;
        cpu?: number;
        memory?: number;
        gpus?: number;
        image?: string;
        /** @description CPU seconds really used (local backend). */
        cpu_time?: number | null;
        /** @description Peak memory in bytes (local backend). */
        peak_memory?: number | null;
      })[];
      total: components['schemas']['UsageAmounts'];
    };
    Prices: {
      currency?: string;
      cpu_hour?: number;
      /** @description Per 10^9 bytes held an hour. */
      memory_gb_hour?: number;
      gpu_hour?: number;
      session_hour?: number;
      /** @description Per 10^9 bytes a team stores for a month (730 hours). */
      disk_gb_month?: number;
      /** @description Price per GPU-hour by GPU type (replaces gpu_hour). */
      gpu_types?: {
        [key: string]: number;
      };
      /** @description Prices by environment image (or team/profile) that replace the others. */
      images?: {
        [key: string]: {
          cpu_hour?: number;
          memory_gb_hour?: number;
          gpu_hour?: number;
          session_hour?: number;
        };
      };
    };
    PriceVersionCreate: {
      /**
       * Format: date-time
       * @description From when (default now; not in the past).
       */
      effective_at?: string;
      prices: components['schemas']['Prices'];
    };
    PriceVersion: {
      id: number;
      /** Format: date-time */
      effective_at: string;
      prices: components['schemas']['Prices'];
      created_by: string;
      /** Format: date-time */
      created_at: string;
      /** @description It has taken effect (the current one is the last of these). */
      in_effect: boolean;
    };
    BudgetUpdate: {
      name?: string;
      amount: number;
      /** @enum {string} */
      unit?: 'money' | 'cpu_hours' | 'memory_gb_hours' | 'gpu_hours' | 'session_hours';
      /** @enum {string} */
      period?: 'month' | 'custom';
      /** Format: date-time */
      starts_at?: string;
      /** Format: date-time */
      ends_at?: string;
      warn_at?: number;
      /** @enum {string} */
      policy?: 'refuse' | 'queue' | 'allow';
    };
    BudgetStatus: {
      team: string;
      name?: string;
      amount: number;
      unit: string;
      currency?: string | null;
      period: string;
      /** Format: date-time */
      starts_at: string;
      /** Format: date-time */
      ends_at: string;
      warn_at?: number;
      policy: string;
      spent: number;
      fraction?: number | null;
      /** @enum {string} */
      state: 'ok' | 'warning' | 'spent';
      message?: string;
    };
    Budget: {
      team: string;
      name?: string;
      amount: number;
      unit: string;
      period: string;
      /** Format: date-time */
      starts_at?: string | null;
      /** Format: date-time */
      ends_at?: string | null;
      warn_at: number;
      policy: string;
      updated_by?: string;
      status?: components['schemas']['BudgetStatus'] | null;
    };
    TeamUsage: {
      team: string;
      quota: components['schemas']['Quota'];
      usage: components['schemas']['Usage'];
      month: components['schemas']['UsageAmounts'] & {
        /** Format: date-time */
        since?: string;
        currency?: string;
      };
      budget: components['schemas']['BudgetStatus'] | null;
      /** @description GPUs the team may still take now (quota and free devices). */
      free_gpus: number | null;
      /** @description Bytes the team holds in its files' history and its models' files, and its share of its members' homes (each home split evenly between its user's teams, as last measured). */
      disk: {
        history: number;
        models: number;
        homes: number;
      };
    };
  };
  responses: {
    /** @description MLflow's error shape. */
    MlflowError: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['MlflowError'];
      };
    };
    /** @description An error a person can act on. */
    Error: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
  };
  parameters: {
    /** @description The team whose MLflow data the call reads and writes (its members only). */
    MlflowTeam: string;
    StudyId: components['schemas']['Id'];
    ScheduleId: components['schemas']['Id'];
    Team: string;
    /** @description A version number, or an alias such as `production`. */
    ModelVersionRef: string;
    RunId: components['schemas']['Id'];
    PipelineId: components['schemas']['Id'];
    /** @description `user:NAME` or `team:NAME`. */
    Space: string;
    /** @description The file's path in its space. */
    FilePath: string;
    VersionNumber: components['schemas']['Id'];
    /** @description A team name, or `_global`. */
    EnvScope: string;
    EnvName: string;
  };
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  getHealth: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service and its metastore answer. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Health'];
        };
      };
      503: components['responses']['Error'];
    };
  };
  getOpenAPI: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The OpenAPI 3 document of this API. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
    };
  };
  getMetrics: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Metrics in the Prometheus text exposition format (version 0.0.4). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getMe: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Who you are. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Me'];
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listTeams: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Teams, sorted by name. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['Team'][];
          };
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getTeam: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team's name (a JupyterHub group). */
        team: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The team. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Team'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  updateTeam: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team's name (a JupyterHub group). */
        team: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['TeamUpdate'];
      };
    };
    responses: {
      /** @description The changed team. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Team'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getTeamRoom: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team's name (a JupyterHub group). */
        team: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The room (state "stopped" before it was ever opened). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TeamRoom'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  openTeamRoom: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team's name (a JupyterHub group). */
        team: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The room, starting or ready. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TeamRoom'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  stopTeamRoom: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team's name (a JupyterHub group). */
        team: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The room, stopping or stopped. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TeamRoom'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listEnvironments: {
    parameters: {
      query?: {
        /** @description Only this team's and the global environments. */
        team?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Environments. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['Environment'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createEnvironment: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['EnvironmentCreate'];
      };
    };
    responses: {
      /** @description The new environment. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Environment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getEnvironment: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The environment. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Environment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteEnvironment: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  updateEnvironment: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['EnvironmentUpdate'];
      };
    };
    responses: {
      /** @description The changed environment. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Environment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getEnvironmentBuild: {
    parameters: {
      query?: {
        /** @description Include the last lines of the build log. */
        log?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Build status. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Build'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  buildEnvironment: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Build started or already built. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Build'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listCredentials: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Credential metadata; values are never returned. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['Credential'][];
          };
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createCredential: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CredentialCreate'];
      };
    };
    responses: {
      /** @description Stored, encrypted. The value is not echoed. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Credential'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteCredential: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        owner_kind: 'user' | 'team';
        owner: string;
        name: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listSessions: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Active sessions. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['Session'][];
          };
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  admitSession: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SessionRequest'];
      };
    };
    responses: {
      /** @description Admitted. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SessionGrant'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getSession: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: components['schemas']['Id'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The grant. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SessionGrant'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  stopSession: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: components['schemas']['Id'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Released. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  stopSessionServer: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        session_id: components['schemas']['Id'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Stopping. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            id?: number;
            /** @enum {string} */
            state?: 'stopping';
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getSpawnOptions: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        user: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Choices for the spawn form. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            user: string;
            teams: string[];
            environments: components['schemas']['Environment'][];
            /** @description Per team, the message of a budget past its warning threshold or spent. */
            budget_warnings: {
              [key: string]: string;
            };
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listFiles: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description A folder. */
        prefix?: string;
        /** @description List deleted (recoverable) files instead. */
        deleted?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Files with their newest version. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['FileInfo'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listVersions: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description The file's path in its space. */
        path: components['parameters']['FilePath'];
        /** @description 1: add the versions of files deleted at this path before. */
        earlier_files?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Versions. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['Version'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  saveVersion: {
    parameters: {
      query?: never;
      header?: {
        /** @description The writer's id for this save (1-64 of `A-Za-z0-9._:-`), unique per file. */
        'Idempotency-Key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['Save'];
      };
    };
    responses: {
      /** @description The new version. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Version'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getFileContent: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description The file's path in its space. */
        path: components['parameters']['FilePath'];
        version?: components['parameters']['VersionNumber'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The version and its content. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Version'] & {
            /** @description A notebook (JSON), text, or base64 bytes. */
            content?: unknown;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteFile: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description The file's path in its space. */
        path: components['parameters']['FilePath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The deletion's version. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Version'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  restoreVersion: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          space: string;
          path: string;
          version: components['schemas']['Id'];
          message?: string;
        };
      };
    };
    responses: {
      /** @description The new version. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Version'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  diffVersions: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description The file's path in its space. */
        path: components['parameters']['FilePath'];
        a: components['schemas']['Id'];
        b: components['schemas']['Id'];
        ignore_outputs?: '1' | 'true' | '0' | 'false';
        ignore_metadata?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The diff, a summary and a text rendering. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            a: components['schemas']['Version'];
            b: components['schemas']['Version'];
            /** @description nbdime's diff of two notebooks (none for text files). */
            diff?: unknown;
            /** @description Cells (or lines) added, removed, modified, unchanged. */
            summary: {
              [key: string]: number;
            };
            text: string;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  exportVersion: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description The file's path in its space. */
        path: components['parameters']['FilePath'];
        version?: components['parameters']['VersionNumber'];
        format?: 'py:percent' | 'py:light' | 'md' | 'md:myst' | 'ipynb';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The text. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            text?: string;
            extension?: string;
            export_format?: string;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listShares: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description The file's path in its space. */
        path: components['parameters']['FilePath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Shares. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Share'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  shareFile: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description The file's path in its space. */
        path: components['parameters']['FilePath'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /**
           * @default user
           * @enum {string}
           */
          kind?: 'user' | 'team';
          /** @description The user's or the team's name. */
          with: string;
          /**
           * @description r: read-only; rw: read-write.
           * @default r
           * @enum {string}
           */
          mode?: 'r' | 'rw';
        };
      };
    };
    responses: {
      /** @description The share. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Share'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  unshareFile: {
    parameters: {
      query: {
        /** @description `user:NAME` or `team:NAME`. */
        space: components['parameters']['Space'];
        /** @description The file's path in its space. */
        path: components['parameters']['FilePath'];
        kind?: 'user' | 'team';
        with: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description No longer shared. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  sharedWithMe: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Shares. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Share'][];
          };
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listExperiments: {
    parameters: {
      query?: {
        team?: string;
        owner?: string;
        /** @description Comma-separated statuses. */
        status?: string;
        tag?: string;
        /** @description ISO 8601; created at or after. */
        since?: string;
        /** @description ISO 8601; created before. */
        until?: string;
        parent?: components['schemas']['Id'];
        pipeline?: components['schemas']['Id'];
        /** @description Cursor: runs with a smaller id. */
        before?: components['schemas']['Id'];
        limit?: number;
        /** @description 1: add each run's latest metrics. */
        metrics?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of runs. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['Experiment'][];
            next: number | null;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  submitExperiment: {
    parameters: {
      query?: {
        /** @description The run this one is a child of (sweeps). */
        parent?: components['schemas']['Id'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ExperimentSpec'];
        'application/yaml': components['schemas']['ExperimentSpec'];
      };
    };
    responses: {
      /** @description Queued. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Experiment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getExperimentSchema: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The schema. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
    };
  };
  getExperiment: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The run. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Experiment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  killExperiment: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Kill asked for; the run ends as killed. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Experiment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  rerunExperiment: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Queued. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Experiment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getExperimentLogs: {
    parameters: {
      query?: {
        /** @description A log name (`worker-0`...); default the first. */
        name?: string;
        /** @description Byte offset to start at. */
        offset?: number;
        follow?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The log's bytes from the offset. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getExperimentSpark: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Where the application runs and what it holds now. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SparkApplication'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getExperimentSparkUI: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
        /** @description A page of the driver's UI (jobs/, stages/...); may hold slashes. */
        subpath: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The UI's page, as the driver answers it. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
        };
      };
      /** @description The UI's own redirect (to a page under the same path). */
      302: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getExperimentArtifacts: {
    parameters: {
      query?: {
        path?: string;
      };
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The list (JSON), or the file's bytes. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: {
              path?: string;
              size?: number;
            }[];
          };
          'application/octet-stream': string;
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  putExperimentArtifact: {
    parameters: {
      query: {
        path: string;
      };
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/octet-stream': string;
      };
    };
    responses: {
      /** @description Stored. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            path?: string;
            size?: number;
            sha256?: string;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  previewExperimentArtifact: {
    parameters: {
      query: {
        path: string;
        rows?: number;
      };
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The head. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DataPreview'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getExperimentMetrics: {
    parameters: {
      query?: {
        key?: string;
        max_points?: number;
      };
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Without `key`: `metrics`, each metric's latest value; with it: `points`. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            metrics?: {
              [key: string]: number;
            };
            key?: string;
            points?: {
              step: number | null;
              value: number;
              timestamp?: number | null;
            }[];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  logExperimentMetrics: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          metrics?: {
            key: string;
            value: number;
            step?: number;
            timestamp?: number;
          }[];
          params?: {
            [key: string]: string;
          };
        };
      };
    };
    responses: {
      /** @description Stored. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            stored?: number;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  uploadCode: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/gzip': string;
      };
    };
    responses: {
      /** @description Kept. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            id?: string;
            size?: number;
            files?: number;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listTemplates: {
    parameters: {
      query?: {
        team?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Templates. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Template'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createTemplate: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['Template'];
      };
    };
    responses: {
      /** @description Added. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Template'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getTemplate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The template. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Template'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteTemplate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  updateTemplate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': Record<string, unknown>;
      };
    };
    responses: {
      /** @description Changed. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Template'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  runTemplate: {
    parameters: {
      query?: {
        parent?: components['schemas']['Id'];
      };
      header?: never;
      path: {
        /** @description A team name, or `_global`. */
        scope: components['parameters']['EnvScope'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          parameters?: Record<string, unknown>;
          meta?: Record<string, unknown>;
        };
      };
    };
    responses: {
      /** @description Queued. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Experiment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listPipelines: {
    parameters: {
      query?: {
        team?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Pipelines. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Pipeline'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  submitPipeline: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PipelineSpec'];
        'application/yaml': components['schemas']['PipelineSpec'];
      };
    };
    responses: {
      /** @description Running. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Pipeline'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getPipeline: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        pipeline_id: components['parameters']['PipelineId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The pipeline. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Pipeline'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  terminatePipeline: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        pipeline_id: components['parameters']['PipelineId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Terminated. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Pipeline'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  retryPipeline: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        pipeline_id: components['parameters']['PipelineId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Running again. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Pipeline'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  compareExperiments: {
    parameters: {
      query: {
        /** @description Run ids, comma-separated (1-50). */
        ids: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The runs and the union of their param and metric names. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Experiment'][];
            keys?: {
              params?: string[];
              metrics?: string[];
            };
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  searchExperiments: {
    parameters: {
      query?: {
        filter?: string;
        order_by?: string[];
        team?: string;
        /** @description Comma-separated params.KEY / metrics.KEY to return (default: all). */
        columns?: string;
        max_results?: number;
        /** @description The answer's `next_page_token`, for the next page. */
        page_token?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of runs with their params, latest metrics and children. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: (components['schemas']['Experiment'] & {
              /** @description How many child runs (sweep, grid, study) it has. */
              children: number;
              /** @description A parent's best child value of the first sorted metric. */
              best?: {
                key?: string;
                value?: number;
              };
            })[];
            keys: {
              params?: string[];
              metrics?: string[];
            };
            next_page_token: string | null;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  openTensorBoard: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          runs: components['schemas']['Id'][];
        };
      };
    };
    responses: {
      /** @description Serving. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            key: string;
            runs: number[];
            /** @description Where the TensorBoard is, under the service. */
            url: string;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  startTrackingRun: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          name?: string;
          team?: string;
          tags?: string[];
          source?: {
            path?: string;
          };
        };
      };
    };
    responses: {
      /** @description Running. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Experiment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  heartbeatTrackingRun: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The run's status now. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            id?: number;
            status?: string;
            reason?: string;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  endTrackingRun: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          /** @enum {string} */
          status?: 'succeeded' | 'failed' | 'killed';
        };
      };
    };
    responses: {
      /** @description Ended. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Experiment'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listModels: {
    parameters: {
      query?: {
        team?: string;
        /** @description 1: include archived models. */
        archived?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Models. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Model'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createModel: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          name: string;
          team?: string;
          description?: string;
          tags?: Record<string, unknown>;
        };
      };
    };
    responses: {
      /** @description Registered. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Model'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getModel: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The model. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Model'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteModel: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  updateModel: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          description?: string;
          tags?: Record<string, unknown>;
          archived?: boolean;
        };
      };
    };
    responses: {
      /** @description Changed. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Model'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listModelVersions: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Versions. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['ModelVersion'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createModelVersion: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          description?: string;
          framework?: string;
          signature?: Record<string, unknown>;
          metrics?: {
            [key: string]: number;
          };
          tags?: Record<string, unknown>;
          source_run_id?: number;
          source_notebook?: Record<string, unknown>;
          /** @description Register a run's output files (paths in its artifacts). */
          from_run?: {
            run_id: components['schemas']['Id'];
            paths: string[];
          };
        };
      };
    };
    responses: {
      /** @description Created (uploading, or ready when from a run). */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ModelVersion'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getModelVersion: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The version. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ModelVersion'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteModelVersion: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  updateModelVersion: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          description?: string;
          tags?: Record<string, unknown>;
          archived?: boolean;
        };
      };
    };
    responses: {
      /** @description Changed. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ModelVersion'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  finalizeModelVersion: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Ready. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ModelVersion'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getModelFile: {
    parameters: {
      query: {
        /** @description The file's path in the version. */
        path: string;
      };
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The file. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/octet-stream': string;
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  putModelFile: {
    parameters: {
      query: {
        /** @description The file's path in the version. */
        path: string;
      };
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        /** @description A version number, or an alias such as `production`. */
        version: components['parameters']['ModelVersionRef'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/octet-stream': string;
      };
    };
    responses: {
      /** @description Stored. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            path?: string;
            size?: number;
            sha256?: string;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  setModelAlias: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        alias: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          version: number;
        };
      };
    };
    responses: {
      /** @description Set. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model?: string;
            alias?: string;
            version?: number;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteModelAlias: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
        alias: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Removed. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listDatasets: {
    parameters: {
      query?: {
        team?: string;
        tag?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Datasets. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Dataset'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createDataset: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DatasetFields'];
      };
    };
    responses: {
      /** @description Added. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Dataset'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getDataset: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The dataset. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Dataset'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteDataset: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Removed. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  updateDataset: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DatasetFields'];
      };
    };
    responses: {
      /** @description Changed. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Dataset'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getLineage: {
    parameters: {
      query?: {
        /** @description team/name */
        dataset?: string;
        run?: components['schemas']['Id'];
        /** @description team/name */
        model?: string;
        /** @description With model: a version or alias. */
        version?: string;
        /** @description team/name */
        endpoint?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Nodes and edges. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            nodes: {
              id: string;
              /** @enum {string} */
              kind: 'dataset' | 'run' | 'model_version' | 'endpoint';
              /** @description A dataset's. */
              uri?: string;
              /** @description A run's. */
              name?: string;
              /** @description A run's. */
              team?: string;
              /** @description A run's or an endpoint's. */
              status?: string;
              /** @description A model version's model (team/name). */
              model?: string;
              /** @description A model version's number. */
              version?: number;
            }[];
            edges: {
              from: string;
              to: string;
            }[];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listEndpoints: {
    parameters: {
      query?: {
        team?: string;
        /** @description 1: include stopped endpoints. */
        stopped?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Endpoints. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Endpoint'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createEndpoint: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['EndpointCreate'];
      };
    };
    responses: {
      /** @description Created; it is starting. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Endpoint'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getEndpoint: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The endpoint. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Endpoint'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  stopEndpoint: {
    parameters: {
      query?: {
        purge?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Stopped. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Endpoint'];
        };
      };
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  updateEndpoint: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['EndpointUpdate'];
      };
    };
    responses: {
      /** @description Accepted; it is updating. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Endpoint'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getEndpointLogs: {
    parameters: {
      query?: {
        /** @description Byte offset to start at. */
        offset?: number;
        follow?: '1' | 'true' | '0' | 'false';
      };
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The log's bytes from the offset. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getEndpointMetrics: {
    parameters: {
      query?: {
        /** @description Seconds back from now. */
        window?: number;
        /** @description Seconds per point, a multiple of 10. */
        step?: number;
      };
      header?: never;
      path: {
        team: components['parameters']['Team'];
        name: components['parameters']['EnvName'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The points, oldest first. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['EndpointMetrics'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getNotebookParameters: {
    parameters: {
      query: {
        /** @description Path in your space, or teams/TEAM/... */
        notebook: string;
        /** @description `user:NAME` or `team:NAME` (default: from the path). */
        space?: string;
        /** @description A version (default: the newest). */
        version?: components['schemas']['Id'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The notebook's version and parameters. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotebookParameters'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listNotebookJobs: {
    parameters: {
      query: {
        notebook: string;
        space?: string;
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The jobs. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['NotebookJobRun'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  runNotebookJob: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NotebookJob'];
      };
    };
    responses: {
      /** @description Queued; `children` lists a fan-out's child runs. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotebookJobRun'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getNotebookJob: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The job. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotebookJobRun'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listNotebookSchedules: {
    parameters: {
      query?: {
        team?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Schedules. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['NotebookSchedule'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createNotebookSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          name?: string;
          /**
           * @example 0 6 * * 1-5
           * @example *\/30 * * * * *
           */
          cron: string;
          /** @default UTC */
          timezone?: string;
          /**
           * @default skip
           * @enum {string}
           */
          catchup?: 'skip' | 'run_once';
          /** @default false */
          paused?: boolean;
          job: components['schemas']['NotebookJob'];
        };
      };
    };
    responses: {
      /** @description Created. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotebookSchedule'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getNotebookSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        schedule_id: components['parameters']['ScheduleId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The schedule; `history` holds its 10 latest firings. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotebookSchedule'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteNotebookSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        schedule_id: components['parameters']['ScheduleId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  updateNotebookSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        schedule_id: components['parameters']['ScheduleId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          name?: string;
          cron?: string;
          timezone?: string;
          /** @enum {string} */
          catchup?: 'skip' | 'run_once';
          paused?: boolean;
          /** @description Replaces the job's parameters. */
          parameters?: Record<string, unknown>;
          job?: components['schemas']['NotebookJob'];
        };
      };
    };
    responses: {
      /** @description Changed. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['NotebookSchedule'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listNotebookScheduleRuns: {
    parameters: {
      query?: {
        limit?: number;
      };
      header?: never;
      path: {
        schedule_id: components['parameters']['ScheduleId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Firings. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['ScheduleFiring'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  usageReport: {
    parameters: {
      query?: {
        /** @description One team (its members and admins only). */
        team?: string;
        user?: string;
        kind?: 'session' | 'run' | 'notebook_job' | 'endpoint' | 'build';
        /** @description ISO 8601 time (default: the start of this month, UTC). */
        since?: string;
        /** @description ISO 8601 time (default now). */
        until?: string;
        /** @description Comma-separated: team, user, kind, day or month, item (default team,kind). */
        group_by?: string;
        format?: 'json' | 'csv';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The report (or CSV with format=csv). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UsageReport'];
          'text/csv': string;
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  usageTeams: {
    parameters: {
      query?: {
        team?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description One summary per team. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['TeamUsage'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getPrices: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The prices. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Prices'];
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  setPrices: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['Prices'];
      };
    };
    responses: {
      /** @description The prices now. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Prices'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listPriceVersions: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The versions. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['PriceVersion'][];
          };
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  addPriceVersion: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PriceVersionCreate'];
      };
    };
    responses: {
      /** @description The version. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['PriceVersion'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deletePriceVersion: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        version_id: components['schemas']['Id'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Withdrawn. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listBudgets: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Budgets. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items: components['schemas']['Budget'][];
          };
        };
      };
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getBudget: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The budget and its status. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Budget'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  setBudget: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['BudgetUpdate'];
      };
    };
    responses: {
      /** @description The budget. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Budget'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  deleteBudget: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        team: components['parameters']['Team'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Removed. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  listStudies: {
    parameters: {
      query?: {
        team?: string;
        status?: 'running' | 'stopped' | 'finished' | 'failed';
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Studies (without their trials). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            items?: components['schemas']['Study'][];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  createStudy: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['StudySpec'];
      };
    };
    responses: {
      /** @description Started. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Study'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getStudy: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The study; `items` are its trials in number order. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Study'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  stopStudy: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Stopped. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Study'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  resumeStudy: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          /** @description Trials to add. */
          trials?: number;
        };
      };
    };
    responses: {
      /** @description Running again. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Study'];
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      409: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  getStudyImportances: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description `{parameter: importance}`, summing to 1 (empty with fewer than 2 results). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            importances?: {
              [key: string]: number;
            };
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  nextStudyTrial: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        study_id: components['parameters']['StudyId'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          /**
           * @description Trials to take.
           * @default 1
           */
          count?: number;
          /** @description The trials it evaluated (one, or a list). */
          previous?: components['schemas']['TrialResult'] | components['schemas']['TrialResult'][];
        };
      };
    };
    responses: {
      /** @description The next trial (`params`, its `run_id` and run `token`), or `done`. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            done: boolean;
            number?: number;
            params?: Record<string, unknown>;
            run_id?: number;
            token?: string;
            trials?: {
              number?: number;
              params?: Record<string, unknown>;
              run_id?: number;
              token?: string;
            }[];
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  reportStudyTrial: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        run_id: components['parameters']['RunId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          value: number;
          step: number;
        };
      };
    };
    responses: {
      /** @description Whether the trial should stop now, and why. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            prune: boolean;
            /** @enum {string} */
            state: 'running' | 'complete' | 'pruned' | 'failed';
            reason: string;
            study_id?: number;
            number?: number;
          };
        };
      };
      400: components['responses']['Error'];
      401: components['responses']['Error'];
      403: components['responses']['Error'];
      404: components['responses']['Error'];
      413: components['responses']['Error'];
      503: components['responses']['Error'];
    };
  };
  mlflowPostExperimentsCreate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          artifact_location?: string;
          tags?: components['schemas']['MlflowTag'][];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            experiment_id?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetExperimentsGet: {
    parameters: {
      query: {
        experiment_id: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            experiment?: components['schemas']['MlflowExperiment'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetExperimentsGetByName: {
    parameters: {
      query: {
        experiment_name: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            experiment?: components['schemas']['MlflowExperiment'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetExperimentsSearch: {
    parameters: {
      query?: {
        max_results?: string;
        page_token?: string;
        filter?: string;
        order_by?: string[];
        view_type?: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            experiments?: components['schemas']['MlflowExperiment'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostExperimentsSearch: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          filter?: string;
          order_by?: string[];
          /** @enum {unknown} */
          view_type?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
          max_results?: number | string;
          page_token?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            experiments?: components['schemas']['MlflowExperiment'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostExperimentsUpdate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_id: string;
          new_name?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostExperimentsDelete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_id: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostExperimentsRestore: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_id: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostExperimentsSetExperimentTag: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_id: string;
          key: string;
          value?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostExperimentsDeleteExperimentTag: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_id: string;
          key: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsCreate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_id?: string;
          user_id?: string;
          run_name?: string;
          /** @description int64 (MLflow's JSON may send it as a string) */
          start_time?: number | string;
          tags?: components['schemas']['MlflowTag'][];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            run?: components['schemas']['MlflowRun'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetRunsGet: {
    parameters: {
      query?: {
        run_id?: string;
        run_uuid?: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            run?: components['schemas']['MlflowRun'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsUpdate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id?: string;
          /** @description old name of run_id */
          run_uuid?: string;
          /** @enum {unknown} */
          status?: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
          /** @description int64 (MLflow's JSON may send it as a string) */
          end_time?: number | string;
          run_name?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            run_info?: components['schemas']['MlflowRunInfo'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsDelete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsRestore: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsLogMetric: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id?: string;
          /** @description old name of run_id */
          run_uuid?: string;
          key: string;
          /** @description a number; NaN and infinities as MLflow sends them */
          value: number | string;
          /** @description int64 (MLflow's JSON may send it as a string) */
          timestamp?: number | string;
          /** @description int64 (MLflow's JSON may send it as a string) */
          step?: number | string;
          model_id?: string;
          dataset_name?: string;
          dataset_digest?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsLogParameter: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id?: string;
          /** @description old name of run_id */
          run_uuid?: string;
          key: string;
          value?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsSetTag: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id?: string;
          /** @description old name of run_id */
          run_uuid?: string;
          key: string;
          value?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsDeleteTag: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id: string;
          key: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsLogBatch: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id?: string;
          metrics?: components['schemas']['MlflowMetric'][];
          params?: components['schemas']['MlflowTag'][];
          tags?: components['schemas']['MlflowTag'][];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsLogInputs: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id?: string;
          datasets?: components['schemas']['MlflowDatasetInput'][];
          models?: components['schemas']['MlflowModelInput'][];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsOutputs: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id?: string;
          models?: {
            model_id?: string;
            /** @description int64 (MLflow's JSON may send it as a string) */
            step?: number | string;
          }[];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsLogModel: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          run_id?: string;
          model_json?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRunsSearch: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_ids: string[];
          filter?: string;
          /** @enum {unknown} */
          run_view_type?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
          order_by?: string[];
          max_results?: number | string;
          page_token?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            runs?: components['schemas']['MlflowRun'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetMetricsGetHistory: {
    parameters: {
      query: {
        run_id?: string;
        run_uuid?: string;
        metric_key: string;
        max_results?: string;
        page_token?: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            metrics?: components['schemas']['MlflowMetric'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetArtifactsList: {
    parameters: {
      query?: {
        run_id?: string;
        run_uuid?: string;
        path?: string;
        page_token?: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            root_uri?: string;
            files?: components['schemas']['MlflowFileInfo'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostLoggedModels: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_id?: string;
          name?: string;
          model_type?: string;
          source_run_id?: string;
          params?: components['schemas']['MlflowTag'][];
          tags?: components['schemas']['MlflowTag'][];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model?: components['schemas']['MlflowLoggedModel'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetLoggedModelsModelId: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': unknown;
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model?: components['schemas']['MlflowLoggedModel'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDeleteLoggedModelsModelId: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPatchLoggedModelsModelId: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          model_id?: string;
          /** @enum {unknown} */
          status?: 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED';
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model?: components['schemas']['MlflowLoggedModel'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPatchLoggedModelsModelIdTags: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          model_id?: string;
          tags?: components['schemas']['MlflowTag'][];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDeleteLoggedModelsModelIdTagsTagKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
        tag_key: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostLoggedModelsModelIdParams: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        model_id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          model_id?: string;
          params?: components['schemas']['MlflowTag'][];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostLoggedModelsSearch: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          experiment_ids?: string[];
          filter?: string;
          datasets?: unknown[];
          /** @description [{field_name, ascending}] */
          order_by?: unknown[];
          max_results?: number | string;
          page_token?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            models?: components['schemas']['MlflowLoggedModel'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRegisteredModelsCreate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          tags?: components['schemas']['MlflowTag'][];
          description?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            registered_model?: components['schemas']['MlflowRegisteredModel'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetRegisteredModelsGet: {
    parameters: {
      query: {
        name: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            registered_model?: components['schemas']['MlflowRegisteredModel'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPatchRegisteredModelsUpdate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          description?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            registered_model?: components['schemas']['MlflowRegisteredModel'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRegisteredModelsRename: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          new_name: string;
        };
      };
    };
    responses: {
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDeleteRegisteredModelsDelete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRegisteredModelsSetTag: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          key: string;
          value?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDeleteRegisteredModelsDeleteTag: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          key: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetRegisteredModelsSearch: {
    parameters: {
      query?: {
        filter?: string;
        max_results?: string;
        order_by?: string[];
        page_token?: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            registered_models?: components['schemas']['MlflowRegisteredModel'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetRegisteredModelsGetLatestVersions: {
    parameters: {
      query: {
        name: string;
        stages?: string[];
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model_versions?: components['schemas']['MlflowModelVersion'][];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRegisteredModelsGetLatestVersions: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          stages?: string[];
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model_versions?: components['schemas']['MlflowModelVersion'][];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetRegisteredModelsAlias: {
    parameters: {
      query: {
        name: string;
        alias: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model_version?: components['schemas']['MlflowModelVersion'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostRegisteredModelsAlias: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          alias: string;
          version: string | number;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDeleteRegisteredModelsAlias: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          alias: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostModelVersionsCreate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          source?: string;
          run_id?: string;
          tags?: components['schemas']['MlflowTag'][];
          run_link?: string;
          description?: string;
          model_id?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model_version?: components['schemas']['MlflowModelVersion'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetModelVersionsGet: {
    parameters: {
      query: {
        name: string;
        version: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model_version?: components['schemas']['MlflowModelVersion'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetModelVersionsGetDownloadUri: {
    parameters: {
      query: {
        name: string;
        version: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            artifact_uri?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPatchModelVersionsUpdate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          version: string | number;
          description?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model_version?: components['schemas']['MlflowModelVersion'];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostModelVersionsSetTag: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          version: string | number;
          key: string;
          value?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostModelVersionsTransitionStage: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          version: string | number;
          stage?: string;
          archive_existing_versions?: boolean;
        };
      };
    };
    responses: {
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDeleteModelVersionsDelete: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          version: string | number;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDeleteModelVersionsDeleteTag: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          name: string;
          version: string | number;
          key: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowGetModelVersionsSearch: {
    parameters: {
      query?: {
        filter?: string;
        max_results?: string;
        order_by?: string[];
        page_token?: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model_versions?: components['schemas']['MlflowModelVersion'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowPostModelVersionsSearch: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          filter?: string;
          order_by?: string[];
          max_results?: number | string;
          page_token?: string;
        };
      };
    };
    responses: {
      /** @description MLflow's answer */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            model_versions?: components['schemas']['MlflowModelVersion'][];
            next_page_token?: string;
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowListArtifacts: {
    parameters: {
      query?: {
        path?: string;
      };
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The folder's entries */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            files?: components['schemas']['MlflowFileInfo'][];
          };
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDownloadArtifact: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        /** @description the artifact's path (slashes included) */
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The file */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/octet-stream': string;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowUploadArtifact: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        /** @description the artifact's path (slashes included) */
        path: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/octet-stream': string;
      };
    };
    responses: {
      /** @description Stored */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, unknown>;
        };
      };
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      413: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
  mlflowDeleteArtifact: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The team whose MLflow data the call reads and writes (its members only). */
        team: components['parameters']['MlflowTeam'];
        /** @description the artifact's path (slashes included) */
        path: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      400: components['responses']['MlflowError'];
      401: components['responses']['MlflowError'];
      403: components['responses']['MlflowError'];
      404: components['responses']['MlflowError'];
      409: components['responses']['MlflowError'];
      501: components['responses']['MlflowError'];
      503: components['responses']['MlflowError'];
    };
  };
}
