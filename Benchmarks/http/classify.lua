-- wrk: one case per request to POST /v1/classify (stateless). The token comes from OMBUDS_TOKEN.
function init(args)
  token = os.getenv("OMBUDS_TOKEN")
  body = '{"id":"C-1","received_at":"2025-10-20T09:00:00+08:00","channel":"web","collective_size":3,"media":"threatened","complainant_id":"P1","issue_key":"K1","compensation":{"amount":"650.00","currency":"CNY"},"text":"快递暴力分拣，包裹破损，要求赔偿"}'
end

function request()
  return wrk.format("POST", "/v1/classify?now=2025-10-21T12:00:00%2B08:00",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

-- The summary line: report.lua beside this script.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
