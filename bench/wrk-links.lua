-- bench/wrk-links.lua — wrk script for bench/redirect.sh: every request
-- goes to one of LINKS slugs ({PREFIX}0 … {PREFIX}{LINKS-1}; PREFIX is
-- bench, or routed for the links with rules and variants) in turn, as a
-- mobile Safari visitor without a cookie (a new visitor each time).
local n = tonumber(os.getenv("LINKS") or "50")
local prefix = os.getenv("PREFIX") or "bench"
local i = 0
wrk.headers["User-Agent"] =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
request = function()
  i = i + 1
  return wrk.format("GET", "/" .. prefix .. (i % n))
end
