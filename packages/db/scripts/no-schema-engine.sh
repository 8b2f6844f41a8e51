#!/bin/sh
# Stand-in for Prisma's schema-engine binary, which cannot be downloaded here. `prisma generate`
# only checks that PRISMA_SCHEMA_ENGINE_BINARY names an existing file and never runs it; if some
# other Prisma command does run it, it fails loudly instead of hanging.
echo "prisma schema-engine is not available: migrations are plain SQL applied by dbmate (packages/db/migrations)" >&2
exit 1
