import { lines } from "../test/policy/differential/generate.ts"
import * as Fs from "node:fs"
Fs.writeFileSync("/tmp/lines2.bin", lines(13, 200).map((l) => l + "\0").join(""))
