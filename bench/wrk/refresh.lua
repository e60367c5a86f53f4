-- POST /oauth/token grant_type=refresh_token&refresh_token=... with HTTP Basic client auth,
-- in a closed loop, without ever presenting a refresh token twice.
--
-- Why a pool. Tessera rotates refresh tokens on every use, and presenting an already-used
-- one is invalid_grant AND revokes the whole family (http-contract.md). In wrk, each thread
-- has one Lua state shared by all of that thread's connections (here 64 / 2 = 32), and
-- request() is called for whichever connection is ready to write, while other connections
-- of the same thread still have requests in flight. A single "current token" per thread
-- would therefore be sent by several connections at once: one wins, the others are reuse,
-- the family is revoked, and the run measures error paths. So each thread keeps a POOL of
-- refresh tokens that are not in flight:
--   * request() pops a token off the pool; from then on only that request owns it. If the
--     pool is empty it sends a password grant instead, which mints a fresh family.
--   * response() parses the new refresh_token out of a 200 body and pushes it back. It does
--     not need to know which request the response belongs to: every token in the pool is
--     unused and interchangeable.
-- A token is thus never sent twice, and the number of tokens alive per thread settles at
-- the number of its connections. A failed request just drops its token (the pool shrinks
-- and a later request refills it with a password grant); it never causes a reuse.
-- wrk does not pipeline here (one request per connection at a time), and a wrk "timeout"
-- only counts a slow response, the connection keeps waiting for it, so a slow answer still
-- returns its token to the pool.
--
-- Seeding. Password grants cost an Argon2id hash each, far more than a refresh; 64 of them
-- at the start would pollute the refresh latencies (and could meet the server's hashing
-- admission limit, 503). run.sh therefore obtains the tokens with curl beforehand and names
-- a file of them (one per line) in REFRESH_SEED; setup() (main Lua state, once per thread,
-- before that thread's init()) hands each thread its share as a space-separated string,
-- and init() (the thread's own state) fills the pool with it. WRK_THREADS must equal wrk's
-- -t so the shares are right. Give each thread one spare token: before the run, wrk calls
-- request() once on the first thread's state to verify the request (script_verify_request)
-- and never sends it, so that popped token is lost (harmlessly: it is never sent at all).
-- Without REFRESH_SEED the script still works on its own: the first request of each
-- connection is a password grant.
--
-- done() prints one machine-readable line, counted over all threads:
--   REFRESH ok=N non200=N s400=N s401=N s429=N s503=N other=N no_token=N password_grants=N
-- ok: 200 with a refresh_token; non200: every response that was not 200 (by status after);
-- no_token: a 200 whose body had no refresh_token (should be 0); password_grants: password
-- grants sent (the fallback; 0 when the seed sufficed, and then every request was a refresh).
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local c = dofile(here .. 'common.lua')

local token_path = c.env('TOKEN_PATH', '/oauth/token')
local headers = c.form_headers()
local password_body = 'grant_type=password'
  .. '&username=' .. c.urlencode(c.env('BENCH_USER', 'bench'))
  .. '&password=' .. c.urlencode(c.env('BENCH_PASSWORD', 'bench-password'))

local counters = {
  'ok', 'non200', 's400', 's401', 's429', 's503', 'other', 'no_token', 'password_grants',
}

---------------------------------------------------------------------------------------------
-- Main state: setup() and done().
local threads = {}
local seed_tokens = nil
local seed_next = 1

local function load_seed()
  local list = {}
  local file = os.getenv('REFRESH_SEED')
  if file ~= nil and file ~= '' then
    local fh = assert(io.open(file, 'r'))
    for line in fh:lines() do
      local tok = line:match('^%s*(%S+)%s*$')
      if tok then list[#list + 1] = tok end
    end
    fh:close()
  end
  return list
end

function setup(thread)
  table.insert(threads, thread)
  if seed_tokens == nil then seed_tokens = load_seed() end
  local nthreads = tonumber(c.env('WRK_THREADS', '1')) or 1
  local share = math.ceil(#seed_tokens / nthreads)
  local mine = {}
  for i = seed_next, math.min(seed_next + share - 1, #seed_tokens) do
    mine[#mine + 1] = seed_tokens[i]
  end
  seed_next = seed_next + share
  thread:set('seed', table.concat(mine, ' '))
end

function done(summary, latency, requests)
  local total = {}
  for _, k in ipairs(counters) do total[k] = 0 end
  for _, th in ipairs(threads) do
    for _, k in ipairs(counters) do total[k] = total[k] + (th:get(k) or 0) end
  end
  local parts = {}
  for _, k in ipairs(counters) do parts[#parts + 1] = k .. '=' .. string.format('%d', total[k]) end
  io.write('REFRESH ' .. table.concat(parts, ' ') .. '\n')
end

---------------------------------------------------------------------------------------------
-- Thread states: init(), request(), response(). The counters are globals so that done()
-- can read them with thread:get().
local pool = {}

function init(args)
  for _, k in ipairs(counters) do _G[k] = 0 end
  for tok in (seed or ''):gmatch('%S+') do pool[#pool + 1] = tok end
end

function request()
  local tok = table.remove(pool)   -- pop (LIFO); nil when the pool is empty
  if tok == nil then
    password_grants = password_grants + 1
    return wrk.format('POST', token_path, headers, password_body)
  end
  return wrk.format('POST', token_path, headers,
    'grant_type=refresh_token&refresh_token=' .. c.urlencode(tok))
end

function response(status, hdrs, body)
  if status == 200 then
    -- Opaque tokens are URL-safe text, so no JSON escapes can occur inside the string.
    local tok = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if tok then
      pool[#pool + 1] = tok
      ok = ok + 1
    else
      no_token = no_token + 1
    end
    return
  end
  non200 = non200 + 1
  if status == 400 then s400 = s400 + 1
  elseif status == 401 then s401 = s401 + 1
  elseif status == 429 then s429 = s429 + 1
  elseif status == 503 then s503 = s503 + 1
  else other = other + 1 end
end
