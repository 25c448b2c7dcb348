"""Open311 GeoReport v2 for orders, under /open311/v2/ (docs/open311.md).

selectors.py  lookups and the shapes of the specification (services, definitions, requests), scoped by the
              orders policy
views.py      the endpoints, rendered as JSON or XML with the specification's error list
urls.py       the fixed paths; schemas/ the JSON Schemas every response is validated against (the tests)

Plain Django views, because the specification fixes the paths, the formats and the error shape:

  GET  discovery.{json,xml}
  GET  services.{json,xml}[?jurisdiction_id=]          menu items as services
  GET  services/{service_code}.{json,xml}              their attributes
  POST requests.{json,xml}                             form-encoded, api_key required → an Order
  GET  requests.{json,xml}[?service_request_id=&service_code=&start_date=&end_date=&status=]
  GET  requests/{service_request_id}.{json,xml}

Decisions:

* `service_code` is the menu item's id; `service_request_id` the order number (D000123).
* `jurisdiction_id` is a node's id or its administrative division code. POST needs it unless the
  menu item belongs to a station (then that station is the jurisdiction).
* `api_key` is one of the platform's API tokens (accounts.ApiToken, created on the account page). POST
  enters the order on the resident's behalf as the token's account, which needs Perm.CHANGE at the
  station (channel 平台, `entered_by` that account, audited like any order).
* GET requests without an api_key shows only what is not personal: ids, service, status and notes,
  the responsible team or node, the times. With an api_key it also shows the description, address,
  point and photo of the orders inside the account's scope. The resident's name, phone and e-mail are
  never shown (the schemas forbid any field beyond the specification's).
* Our statuses map onto open / closed (`STATUS_MAP`); `status_notes` says where the order stands.
"""
