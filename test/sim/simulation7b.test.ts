/** Goal and method: see simulation7a.test.ts; these are the next n = 7 seeds. */
import { describeSeeds } from "./seedSuite";

describeSeeds("seven validators", { validators: 7 }, 76, 75);
