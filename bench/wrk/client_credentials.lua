-- POST /oauth/token grant_type=client_credentials&scope=read with HTTP Basic client auth.
-- A static request (no request()/response() functions), so wrk stays on its fast path;
-- run.sh reads wrk's own summary (--latency) for the numbers.
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local c = dofile(here .. 'common.lua')

local scope = c.env('SCOPE', 'read')
wrk.method = 'POST'
wrk.path = c.env('TOKEN_PATH', '/oauth/token')
for k, v in pairs(c.form_headers()) do wrk.headers[k] = v end
wrk.body = 'grant_type=client_credentials' .. (scope ~= '' and ('&scope=' .. c.urlencode(scope)) or '')
