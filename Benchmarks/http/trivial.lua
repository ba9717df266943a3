-- wrk: GET /healthz, the server's trivial route (no token, no store), the baseline.
-- The summary line: report.lua beside this script.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
