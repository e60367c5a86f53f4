-- POST /oauth/introspect token=<TOKEN> with HTTP Basic client auth (RFC 7662).
-- TOKEN must be an access token issued to the same client; run.sh obtains one with curl
-- (client_credentials) and checks that it introspects as active before the load starts,
-- because an inactive token would also answer 200 and go unnoticed here.
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local c = dofile(here .. 'common.lua')

local token = os.getenv('TOKEN')
if token == nil or token == '' then error('set TOKEN to an access token to introspect') end
wrk.method = 'POST'
wrk.path = c.env('INTROSPECT_PATH', '/oauth/introspect')
for k, v in pairs(c.form_headers()) do wrk.headers[k] = v end
wrk.body = 'token=' .. c.urlencode(token) .. '&token_type_hint=access_token'
