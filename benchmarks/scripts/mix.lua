-- mix.lua — the lua5.4 benchmark of benchmarks/suite.txt: string keys in a table, string
-- building and pattern matching, method calls through a metatable, closures. Deterministic:
-- prints one checksum line. Usage: lua5.4 mix.lua N
local N = tonumber(arg[1]) or 300000
local t, s = {}, 0
local function key(i) return "k" .. (i * 7919 % 100003) end
for i = 1, N do
  local k = key(i)
  t[k] = (t[k] or 0) + i
end
local parts = {}
for i = 1, N, 7 do parts[#parts + 1] = string.format("%x", i * 31 % 65521) end
local str = table.concat(parts, ",")
for w in str:gmatch("[^,]+") do s = (s * 31 + #w + (t[key(#w)] or 0)) % 4294967296 end
local Counter = {}
Counter.__index = Counter
function Counter.new() return setmetatable({ n = 0 }, Counter) end
function Counter:inc(d) self.n = self.n + d end
local c = Counter.new()
for i = 1, N * 10 do c:inc(i % 13) end
local function adder(k) return function(x) return x + k end end
local fs = {}
for i = 1, 16 do fs[i] = adder(i) end
local acc = 0
for i = 1, N * 4 do acc = fs[i % 16 + 1](acc) % 1000003 end
print(string.format("lua checksum=%d n=%d len=%d acc=%d", s, c.n, #str, acc))
