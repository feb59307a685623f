-- bench/wrk-links.lua — wrk script for bench/redirect.sh: every request
-- goes to one of LINKS slugs (bench0 … bench{LINKS-1}) in turn, as a
-- mobile Safari visitor without a cookie (a new visitor each time).
local n = tonumber(os.getenv("LINKS") or "50")
local i = 0
wrk.headers["User-Agent"] =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
request = function()
  i = i + 1
  return wrk.format("GET", "/bench" .. (i % n))
end
