"""The CDS Hooks 2.0 service (``mgassist serve``, the optional extra ``mgassist[serve]``).

    services      the three services and their prefetch templates (discovery)
    hook_request  a service call read and checked: hook, hookInstance, context, prefetch
    prefetch      the patient's FHIR resources: from the prefetch, else from the FHIR server
    cards         an Assessment (and the draft orders) as CDS Hooks cards
    feedback      the feedback endpoint's body, recorded without patient data
    auth          the EHR's bearer JWT: RS384/ES384 only, aud, exp, jti replay cache
    app           the Starlette application: routes, limits, CORS, errors
    run           ``mgassist serve``: the configuration and uvicorn

The top layer beside ``_shell``: the ``serve`` command imports ``run`` lazily, so the core
install never needs Starlette, uvicorn, httpx or PyJWT. docs/cds-hooks.md describes it.
"""
