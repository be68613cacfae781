import { workflowInfo, type WorkflowInterceptorsFactory, type WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';

/**
 * Every child workflow carries its parent's search attributes (project, dataset, model, endpoint), set
 * explicitly on the start command because the server does not copy them to children.
 */
class ChildSearchAttributesInterceptor implements WorkflowOutboundCallsInterceptor {
  startChildWorkflowExecution: NonNullable<WorkflowOutboundCallsInterceptor['startChildWorkflowExecution']> = (input, next) => {
    const { options } = input;
    if (options.typedSearchAttributes || options.searchAttributes) return next(input);
    return next({ ...input, options: { ...options, typedSearchAttributes: workflowInfo().typedSearchAttributes } });
  };
}

/** Loaded into the workflow bundle by workers/workflow-bundle.ts (`workflowInterceptorModules`). */
export const interceptors: WorkflowInterceptorsFactory = () => ({ outbound: [new ChildSearchAttributesInterceptor()] });
