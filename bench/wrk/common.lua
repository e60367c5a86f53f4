-- Helpers shared by bench/wrk/*.lua (loaded with dofile; wrk runs LuaJIT, i.e. Lua 5.1).
-- Settings come from the environment (run.sh exports them); the defaults match
-- bench/bootstrap.toml and Tessera's paths:
--   CLIENT_ID (bench)  CLIENT_SECRET (bench-secret)  SCOPE (read; "" = none)
--   BENCH_USER (bench)  BENCH_PASSWORD (bench-password)
--   TOKEN_PATH (/oauth/token)  INTROSPECT_PATH (/oauth/introspect)
local M = {}

function M.env(name, default)
  local v = os.getenv(name)
  if v == nil then return default end
  return v
end

-- application/x-www-form-urlencoded value encoding (unreserved characters kept).
function M.urlencode(s)
  return (s:gsub('[^%w%-%._~]', function(ch) return string.format('%%%02X', ch:byte()) end))
end

local b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function b64char(n) return b64:sub(n + 1, n + 1) end

function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    out[#out + 1] = b64char(math.floor(n / 262144) % 64)
      .. b64char(math.floor(n / 4096) % 64)
      .. (b and b64char(math.floor(n / 64) % 64) or '=')
      .. (c and b64char(n % 64) or '=')
  end
  return table.concat(out)
end

-- HTTP Basic client authentication; RFC 6749 2.3.1 form-urlencodes id and secret first.
function M.basic_auth()
  local id = M.urlencode(M.env('CLIENT_ID', 'bench'))
  local secret = M.urlencode(M.env('CLIENT_SECRET', 'bench-secret'))
  return 'Basic ' .. M.base64(id .. ':' .. secret)
end

-- The headers of every POST the scripts send (wrk.format adds Host and Content-Length).
function M.form_headers()
  return {
    ['Content-Type'] = 'application/x-www-form-urlencoded',
    ['Accept'] = 'application/json',
    ['Authorization'] = M.basic_auth(),
  }
end

return M
