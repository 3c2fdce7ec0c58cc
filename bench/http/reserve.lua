-- POST /api/products/{id}/stock/reserve with quantity 1; the product id comes from the
-- environment (PRODUCT_ID). Non-2xx answers are counted and reported, so an oversold or
-- failing run is visible.
local id = os.getenv("PRODUCT_ID")
wrk.method = "POST"
wrk.path = "/api/products/" .. id .. "/stock/reserve"
wrk.body = '{"quantity": 1, "reference": "BENCH"}'
wrk.headers["Content-Type"] = "application/json"

local bad = 0
function response(status, headers, body)
    if status ~= 200 then
        bad = bad + 1
    end
end

function done(summary, latency, requests)
    io.write(string.format("non-2xx: %d\n", summary.errors.status))
end
