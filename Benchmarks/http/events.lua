-- wrk: each request is a new case's `received` event (the same facts as ombuds-store-bench's),
-- ids unique across wrk's threads. The token comes from OMBUDS_TOKEN.
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("OMBUDS_TOKEN")
  prefix = os.getenv("OMBUDS_PREFIX") or "h"
  counter = 0
end

function request()
  counter = counter + 1
  local i = tid * 100000000 + counter
  local t = string.format("2025-10-%02dT09:00:00+08:00", i % 28 + 1)
  local body = string.format(
    '{"event_id":"%s%d","type":"received","at":"%s","received_at":"%s","complainant_id":"P%d","issue_key":"K%d","collective_size":%d,"channel":"web","text":"快递暴力分拣，包裹破损，要求赔偿"}',
    prefix, i, t, t, i % 997, i % 331, i % 5 + 1)
  return wrk.format("POST", "/v1/cases/" .. prefix .. i .. "/events",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

-- The summary line: report.lua beside this script.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
