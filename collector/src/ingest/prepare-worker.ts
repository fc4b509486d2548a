/** Worker-thread entry of RequestPreparer (prepare.ts): decode one big request. */
import { decodeAndPost } from './prepare.ts';

export default decodeAndPost;
