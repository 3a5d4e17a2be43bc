-- wrk script: POST the GraphQL bench query (bench/servers/graphql-data.mjs's QUERY) as JSON.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("GQL_BODY")
