/** Worker-thread entry of RequestPreparer (prepare.ts): decode and enrich one big request. */
import { prepareAndPost } from './prepare.ts';

export default prepareAndPost;
